//! The job queue every node shares: leases, retries, completion, failure, idempotency keys.

use super::*;

#[tokio::test]
async fn jobs_are_leased_retried_completed_and_failed_by_the_store_clock() {
    let clock = frozen_clock();
    let db = fresh_store_with_clock(clock.clone()).await;
    let t0 = clock.now();
    let lease = mins(5);
    let a = db
        .enqueue_job(&job("send_mail", 1, t0, Some("k-a")))
        .await
        .unwrap()
        .unwrap();
    let b = db
        .enqueue_job(&job("send_mail", 2, t0 + mins(60), Some("k-b")))
        .await
        .unwrap()
        .unwrap();
    let other = db
        .enqueue_job(&job("ack", 3, t0, None))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        db.enqueue_job(&job("send_mail", 9, t0, Some("k-a")))
            .await
            .unwrap(),
        None
    );

    // Only due jobs of the asked kinds; a claimed job is leased.
    let claimed = db.claim_jobs(&["send_mail"], lease, 10).await.unwrap();
    assert_eq!(ids(&claimed), [a]);
    assert_eq!(
        (claimed[0].attempts, &claimed[0].payload),
        (1, &serde_json::json!({ "n": 1 }))
    );
    assert_eq!(
        db.claim_jobs(&["send_mail"], lease, 10).await.unwrap(),
        vec![]
    );
    clock.advance(mins(4));
    assert_eq!(
        db.claim_jobs(&["send_mail"], lease, 10).await.unwrap(),
        vec![]
    );

    // A worker that died: the lease runs out and the job is claimed again.
    clock.advance(mins(1));
    let claimed = db.claim_jobs(&["send_mail"], lease, 10).await.unwrap();
    assert_eq!((ids(&claimed), claimed[0].attempts), (vec![a], 2));

    // A retry unlocks it for later and keeps the error.
    db.retry_job(a, clock.now() + mins(10), "421 try again later")
        .await
        .unwrap();
    clock.advance(mins(9));
    assert_eq!(
        db.claim_jobs(&["send_mail"], lease, 10).await.unwrap(),
        vec![]
    );
    clock.advance(mins(1));
    let claimed = db.claim_jobs(&["send_mail"], lease, 10).await.unwrap();
    assert_eq!(
        (
            ids(&claimed),
            claimed[0].attempts,
            claimed[0].last_error.as_deref()
        ),
        (vec![a], 3, Some("421 try again later"))
    );

    // Completed: gone for good, its key still taken.
    db.complete_job(a).await.unwrap();
    db.complete_job(a).await.unwrap();
    clock.set(t0 + mins(60));
    let claimed = db.claim_jobs(&["send_mail"], lease, 10).await.unwrap();
    assert_eq!(ids(&claimed), [b]);
    assert_eq!(
        db.enqueue_job(&job("send_mail", 1, t0, Some("k-a")))
            .await
            .unwrap(),
        None
    );

    // Failed: kept, never claimed again, key still taken.
    db.fail_job(b, "550 mailbox unavailable").await.unwrap();
    clock.advance(mins(600));
    assert_eq!(
        db.claim_jobs(&["send_mail"], lease, 10).await.unwrap(),
        vec![]
    );
    assert_eq!(
        db.enqueue_job(&job("send_mail", 2, t0, Some("k-b")))
            .await
            .unwrap(),
        None
    );
    assert_eq!(count_rows(&db, "jobs").await, 2, "b (failed) and other");

    // Kinds, limits and order (oldest run_at first).
    assert_eq!(db.claim_jobs(&[], lease, 10).await.unwrap(), vec![]);
    let claimed = db
        .claim_jobs(&["ack", "send_mail"], lease, 10)
        .await
        .unwrap();
    assert_eq!(ids(&claimed), [other]);
    let now = clock.now();
    let mut queued = Vec::new();
    for (n, at) in [(10, now), (11, now - mins(30)), (12, now - mins(20))] {
        queued.push(
            db.enqueue_job(&job("ack", n, at, None))
                .await
                .unwrap()
                .unwrap(),
        );
    }
    let claimed = db.claim_jobs(&["ack"], lease, 2).await.unwrap();
    assert_eq!(ids(&claimed), [queued[1], queued[2]]);
    let claimed = db.claim_jobs(&["ack"], lease, 2).await.unwrap();
    assert_eq!(ids(&claimed), [queued[0]]);

    let r = db.claim_jobs(&["ack"], jiff::SignedDuration::ZERO, 1).await;
    assert!(matches!(r, Err(StoreError::Domain(_))), "{r:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_get_the_same_job() {
    let db = fresh_store().await;
    let past = Timestamp::now() - mins(1);
    for n in 0..40 {
        db.enqueue_job(&job("send_mail", n, past, Some(&format!("k-{n}"))))
            .await
            .unwrap()
            .unwrap();
    }
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = db.store();
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let jobs = store.claim_jobs(&["send_mail"], mins(10), 3).await.unwrap();
                if jobs.is_empty() {
                    return mine;
                }
                assert!(jobs.iter().all(|j| j.attempts == 1), "{jobs:?}");
                mine.extend(jobs.into_iter().map(|j| j.id));
            }
        }));
    }
    let mut seen = HashSet::new();
    let mut total = 0;
    for t in tasks {
        for id in t.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "job {id} claimed twice");
        }
    }
    assert_eq!((total, seen.len()), (40, 40));
}
