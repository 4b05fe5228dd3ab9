//! IMS jobs (`GET /v1/{project_id}/jobs/{job_id}`): image creation, import,
//! copy and export. Unlike the rest of the family, IMS keeps its sub-jobs in
//! `entities.sub_jobs_result` (`entities.sub_jobs_list` holds only their
//! ids), reports progress, and has error fields of its own in `entities`.

use std::time::Duration;

use serde_json::Value;

use crate::jobs::api::{Fields, JobApi, OfficialPoll};
use crate::jobs::shapes::v1_jobs::{self, V1Shape};
use crate::jobs::{Job, JobError, Service};

pub static API: JobApi = JobApi {
    name: "ims",
    display_name: "IMS",
    endpoint_key: "ims",
    host_label: "ims",
    request: v1_jobs::REQUEST,
    statuses: v1_jobs::STATUSES,
    parse,
    poll_interval: Duration::from_secs(12),
    typical_jobs: "image creation from servers, disks or files, copies and exports (minutes to tens of minutes)",
    typical_lengths: &[Duration::from_secs(60), Duration::from_secs(300), Duration::from_secs(1200)],
    official: OfficialPoll {
        delay: Duration::from_secs(10),
        interval: Duration::from_secs(10),
    },
    not_found_grace: Duration::ZERO,
    fields: Fields {
        reason: "`fail_reason`, and each failed sub-job's; failure reports add `entities.error`, `entities.addition_error_code` and `entities.addition_error_msg`",
        error_code: "`error_code`, else `entities.error_code` (shown beside it when they differ); and each failed sub-job's",
        resource: "`entities.image_id` / `entities.image_name`; else the one `image_id` all sub-jobs name",
        sub_jobs: "`entities.sub_jobs_result`",
        progress: "`entities.process_percent`, as given (a number; the API document's example, 0.24, reads as a fraction)",
    },
};

const SHAPE: V1Shape = V1Shape {
    resource_keys: &["image_id"],
    name_key: Some("image_name"),
    sub_jobs_key: "sub_jobs_result",
    job_details: &[
        "entities.error",
        "entities.addition_error_code",
        "entities.addition_error_msg",
    ],
    sub_job_details: &[],
    entity_error_code: Some("entities.error_code"),
    progress_key: Some("process_percent"),
};

fn parse(service: Service, v: &Value) -> Result<Job, JobError> {
    v1_jobs::parse(&SHAPE, service, v)
}

#[cfg(test)]
mod tests {
    use crate::jobs::{parse, report, svc, Detail, Job, Phase};

    fn fixture(body: &str) -> Job {
        parse(svc("ims"), body.as_bytes()).unwrap()
    }

    #[test]
    fn success_reads_the_image_progress_and_sub_jobs_result() {
        let job = fixture(include_str!("fixtures/ims/success.json"));
        assert_eq!(job.service, svc("ims"));
        assert_eq!(job.id, "ff8080828e9a4c3b018ed2f1a0b20011");
        assert_eq!(job.job_type, "imsCreateWholeImageByInstanceJob");
        assert_eq!(job.status, "SUCCESS");
        assert_eq!(job.phase, Phase::Done);
        assert_eq!((job.reason.as_str(), job.error_code.as_str()), ("", ""));
        // The job's own image, not the sub-job's data-disk image.
        assert_eq!(job.resource_id, "3c4d5e6f-7a8b-4c9d-8e0f-1a2b3c4d5e6f");
        assert_eq!(job.resource_name, "web-full");
        assert_eq!(job.created_at, "2024-07-21T11:00:02.331Z");
        assert_eq!(job.updated_at, "2024-07-21T11:09:47.064Z");
        assert_eq!(job.progress, "100");
        assert!(job.details.is_empty());
        assert_eq!(job.sub_jobs.len(), 1);
        let s = &job.sub_jobs[0];
        assert_eq!(s.id, "ff8080828e9a4c3b018ed2f1a0b30022");
        assert_eq!(s.job_type, "imsCreateDataImage");
        assert_eq!(s.phase, Phase::Done);
        assert_eq!(s.resource_id, "4d5e6f7a-8b9c-4d0e-9f1a-2b3c4d5e6f7a");
    }

    #[test]
    fn running_shows_its_progress() {
        let job = fixture(include_str!("fixtures/ims/running.json"));
        assert_eq!(job.phase, Phase::Pending);
        assert!(job.status_recognised());
        assert_eq!(job.progress, "45");
        assert_eq!(job.resource_id, "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b");
        assert_eq!(job.resource_name, "web-base");
        assert!(job.sub_jobs.is_empty());
    }

    #[test]
    fn sub_job_failure_keeps_the_sub_job_and_the_entity_errors() {
        let job = fixture(include_str!("fixtures/ims/sub_job_failure.json"));
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.reason, "");
        // The top-level code is null, so the entity's stands in.
        assert_eq!(job.error_code, "IMG.0154");
        assert_eq!(job.progress, "62.5");
        assert_eq!(job.resource_name, "db-full");
        // The job names no image and its sub-jobs name two.
        assert_eq!(job.resource_id, "");
        let details: Vec<(&str, &str)> = job
            .details
            .iter()
            .map(|d| (d.label, d.text.as_str()))
            .collect();
        assert_eq!(
            details,
            [
                ("entities.error", "Failed to create the data disk image."),
                ("entities.addition_error_code", "EVS.5400"),
                (
                    "entities.addition_error_msg",
                    "Snapshot quota of the disk is used up."
                ),
            ]
        );
        let failed = job.failed_sub_jobs();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].id, "ff8080828e9a4c3b018ed312c3d50066");
        assert_eq!(failed[0].reason, "Creating the snapshot of data disk vdb failed.");
        assert_eq!(failed[0].error_code, "IMG.0149");
        assert_eq!(failed[0].resource_id, "7a8b9c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d");

        let d = report::failure_detail(&job);
        assert!(d.contains("see the failed sub-jobs below"), "{d}");
        assert!(d.contains("Error code: IMG.0154"), "{d}");
        assert!(
            d.contains("entities.error: Failed to create the data disk image."),
            "{d}"
        );
        assert!(
            d.contains("entities.addition_error_msg: Snapshot quota of the disk is used up."),
            "{d}"
        );
        assert!(
            d.contains(
                "- imsCreateDataImage ff8080828e9a4c3b018ed312c3d50066: status \"FAIL\", \
                 reason: Creating the snapshot of data disk vdb failed., error code: IMG.0149"
            ),
            "{d}"
        );
    }

    #[test]
    fn failure_keeps_a_differing_entity_error_code_beside_the_top_one() {
        let job = fixture(include_str!("fixtures/ims/failure.json"));
        assert_eq!(job.phase, Phase::Failed);
        assert_eq!(job.reason, "The image file could not be read from OBS.");
        assert_eq!(job.error_code, "IMG.0010");
        assert_eq!(job.resource_id, "8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e");
        assert_eq!(job.resource_name, "imported");
        assert_eq!(job.progress, "10");
        assert_eq!(
            job.details,
            [
                Detail {
                    label: "entities.error_code",
                    text: "IMG.0003".into()
                },
                Detail {
                    label: "entities.error",
                    text: "The image file is damaged.".into()
                },
            ]
        );
        let d = report::failure_detail(&job);
        assert!(
            d.starts_with(
                "Status: \"FAIL\"\nReason: The image file could not be read from OBS.\nError code: IMG.0010\n\
                 entities.error_code: IMG.0003\nentities.error: The image file is damaged."
            ),
            "{d}"
        );
    }
}
