//! Every registered job API's parser on the same
//! arbitrary bytes. A parsed job's phase must be its status's classification,
//! and the failure report must always be producible.
#![no_main]

use hwjobs::jobs::{apis, parse, report};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for svc in apis::services() {
        if let Ok(job) = parse(svc, data) {
            assert_eq!(job.service, svc);
            assert_eq!(job.phase, svc.classify(&job.status).0);
            let p = job.sub_job_progress();
            assert!(p.done + p.failed <= p.total);
            let _ = report::failure_summary(&job);
            let _ = report::failure_detail(&job);
        }
    }
});
