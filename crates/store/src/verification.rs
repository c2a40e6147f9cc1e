//! The public verification lookup (CRT-2, CRT-8): the hottest read of the
//! service, one per QR scan.
//!
//! A lookup reads the certificate through the unique index on
//! `certificates.code`, joined with its program by primary key, and only the
//! columns the public answer shows: the holder's person, ID number and every
//! internal id stay in the database.
//!
//! [`VerificationReader`] serves the lookups of all requests. Its threads take
//! every lookup waiting at that moment and answer them together: on
//! PostgreSQL with one prepared statement (`code = ANY($1)`), one round trip
//! for the whole batch; on SQLite with one prepared statement per code inside
//! one read transaction (one lock for the batch). Nothing is cached and
//! nothing waits on purpose: every lookup reads the rows as they are after its
//! request arrived, so a certificate superseded or revoked a moment ago shows
//! so (CRT-5, CRT-8). Under load the batches grow by themselves, which is what
//! keeps a scan cheap; alone, a lookup is a batch of one.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use crate::schema::{certificates, programs};
use crate::{DbConn, Store, StoreError};

/// What a verification shows, before masking and status (CRT-2).
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct VerificationRow {
    /// The verification code it was found by.
    pub code: String,
    /// The printed certificate number.
    pub number: String,
    /// The holder's name as printed (masked by the caller).
    pub holder_name: String,
    /// The first day of validity.
    pub issued_on: NaiveDate,
    /// The last valid day of the current period (after any renewals).
    pub valid_until: NaiveDate,
    /// The stored record status (`active`, `superseded`, `revoked`).
    pub status: String,
    /// When it was superseded or revoked.
    pub ended_at: Option<NaiveDateTime>,
    /// The program's code.
    pub program_code: String,
    /// The program's name.
    pub program_name: String,
    /// The certificate's title as printed, from the program.
    pub certificate_name: String,
}

/// The most lookups answered by one statement or transaction.
pub const MAX_BATCH: usize = 64;

/// Threads answering lookups. One answers while the others wait; another
/// joins only when a full batch is waiting (a burst, or a stalled batch), so
/// batches stay large: on two cores two threads taking turns made every
/// batch small and cost a third of the throughput.
const READER_THREADS: usize = 2;

macro_rules! verification_columns {
    () => {
        (
            certificates::code,
            certificates::number,
            certificates::holder_name,
            certificates::issued_on,
            certificates::valid_until,
            certificates::status,
            certificates::ended_at,
            programs::code,
            programs::name,
            programs::certificate_name,
        )
    };
}

/// What the public may see of the certificates with verification codes
/// `codes` (CRT-2): one entry per code, in order, `None` where no certificate
/// has it. On PostgreSQL one statement; on SQLite one cached statement per
/// code in one read transaction.
pub fn find_by_codes(
    conn: &mut DbConn,
    codes: &[&str],
) -> Result<Vec<Option<VerificationRow>>, StoreError> {
    match conn {
        DbConn::Postgres(c) => {
            let rows: Vec<VerificationRow> = certificates::table
                .inner_join(programs::table)
                .filter(certificates::code.eq_any(codes))
                .select(verification_columns!())
                .load(c)?;
            let mut by_code: HashMap<String, VerificationRow> =
                rows.into_iter().map(|r| (r.code.clone(), r)).collect();
            let mut out = Vec::with_capacity(codes.len());
            for (i, code) in codes.iter().enumerate() {
                // A code asked twice in one batch gets the row twice.
                let again = codes[i + 1..].contains(code);
                out.push(if again {
                    by_code.get(*code).cloned()
                } else {
                    by_code.remove(*code)
                });
            }
            Ok(out)
        }
        DbConn::Sqlite(c) => {
            let rows = c.transaction(|c| {
                codes
                    .iter()
                    .map(|code| {
                        certificates::table
                            .inner_join(programs::table)
                            .filter(certificates::code.eq(*code))
                            .select(verification_columns!())
                            .get_result::<VerificationRow>(c)
                            .optional()
                    })
                    .collect::<Result<Vec<_>, diesel::result::Error>>()
            })?;
            Ok(rows)
        }
    }
}

/// Why a lookup could not be answered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LookupError {
    /// No connection to the database could be had.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The query failed, or the reader stopped.
    #[error("verification lookup failed: {0}")]
    Failed(String),
}

impl From<&StoreError> for LookupError {
    fn from(e: &StoreError) -> Self {
        match e {
            StoreError::Pool(e) => LookupError::Unavailable(e.to_string()),
            other => LookupError::Failed(other.to_string()),
        }
    }
}

type Answer = Result<Option<VerificationRow>, LookupError>;

/// Answers verification lookups in batches on its own threads (see the
/// module documentation). The threads stop when this value is dropped.
pub struct VerificationReader {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for VerificationReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationReader").finish_non_exhaustive()
    }
}

struct Shared {
    store: Store,
    queue: Mutex<Queue>,
    ready: Condvar,
}

#[derive(Default)]
struct Queue {
    jobs: Vec<Job>,
    /// Threads waiting for work.
    idle: usize,
    /// Threads answering batches.
    active: usize,
    closed: bool,
}

struct Job {
    code: String,
    reply: Reply,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl VerificationReader {
    /// Starts the reader threads on `store`.
    pub fn start(store: Store) -> Result<VerificationReader, StoreError> {
        let shared = Arc::new(Shared {
            store,
            queue: Mutex::new(Queue::default()),
            ready: Condvar::new(),
        });
        for n in 0..READER_THREADS {
            let shared = Arc::clone(&shared);
            std::thread::Builder::new()
                .name(format!("guild-verify-{n}"))
                .spawn(move || serve(&shared))
                .map_err(|e| {
                    StoreError::Setup(format!("cannot start the verification reader: {e}"))
                })?;
        }
        Ok(VerificationReader { shared })
    }

    /// Looks up `code`; the answer arrives when a reader thread has run the
    /// batch it joined.
    pub fn lookup(&self, code: String) -> Lookup {
        let slot = Arc::new(Slot::default());
        let mut queue = lock(&self.shared.queue);
        if queue.closed {
            drop(queue);
            return Lookup(slot_with(Err(LookupError::Failed(
                "the verification reader stopped".to_owned(),
            ))));
        }
        queue.jobs.push(Job {
            code,
            reply: Reply(Arc::clone(&slot)),
        });
        // Wake a waiting thread when none is answering, or when a full batch
        // waits for a busy one.
        let wake = queue.idle > 0 && (queue.active == 0 || queue.jobs.len() >= MAX_BATCH);
        drop(queue);
        if wake {
            self.shared.ready.notify_one();
        }
        Lookup(slot)
    }
}

impl Drop for VerificationReader {
    fn drop(&mut self) {
        lock(&self.shared.queue).closed = true;
        self.shared.ready.notify_all();
    }
}

/// One reader thread: waits for lookups, then checks out a connection and
/// answers batches (each every lookup waiting at that moment, up to
/// [`MAX_BATCH`]) until none is left, and returns the connection before it
/// waits again. Stops once closed and drained.
fn serve(shared: &Shared) {
    while let Some(first) = next_batch(shared, true) {
        let mut pending = Some(first);
        let result = shared.store.read(|c| {
            while let Some(batch) = pending.take() {
                let codes: Vec<&str> = batch.iter().map(|j| j.code.as_str()).collect();
                match find_by_codes(c, &codes) {
                    Ok(rows) => {
                        for (job, row) in batch.into_iter().zip(rows) {
                            job.reply.send(Ok(row));
                        }
                    }
                    Err(e) => {
                        fail(batch, &e);
                        // The connection may be broken: give it back to the
                        // pool, which checks it before handing it out again.
                        return Ok(());
                    }
                }
                pending = next_batch(shared, false);
            }
            Ok::<(), StoreError>(())
        });
        if let Err(e) = result
            && let Some(batch) = pending.take()
        {
            fail(batch, &e);
        }
        // A lookup queued since the last look is taken by the next round:
        // the queue is checked again before the thread waits.
        lock(&shared.queue).active -= 1;
    }
}

/// Answers every lookup of `batch` with the error `e`.
fn fail(batch: Vec<Job>, e: &StoreError) {
    let e = LookupError::from(e);
    for job in batch {
        job.reply.send(Err(e.clone()));
    }
}

/// The lookups waiting now (at most [`MAX_BATCH`]). With `wait` (a thread
/// that is not answering), blocks until there is one and counts the thread as
/// answering (until [`serve`] counts it out); `None` once closed and drained.
/// Without `wait`, `None` when no lookup waits.
fn next_batch(shared: &Shared, wait: bool) -> Option<Vec<Job>> {
    let mut queue = lock(&shared.queue);
    if wait {
        while queue.jobs.is_empty() && !queue.closed {
            queue.idle += 1;
            queue = shared
                .ready
                .wait(queue)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            queue.idle -= 1;
        }
        if queue.jobs.is_empty() {
            return None;
        }
        queue.active += 1;
    } else if queue.jobs.is_empty() {
        return None;
    }
    let n = queue.jobs.len().min(MAX_BATCH);
    Some(queue.jobs.drain(..n).collect())
}

/// Where a lookup's answer is left for the request waiting on it.
#[derive(Default)]
struct Slot {
    state: Mutex<SlotState>,
}

#[derive(Default)]
enum SlotState {
    #[default]
    Waiting,
    Polled(Waker),
    Done(Answer),
    Taken,
}

fn slot_with(answer: Answer) -> Arc<Slot> {
    Arc::new(Slot {
        state: Mutex::new(SlotState::Done(answer)),
    })
}

/// The sending side of a [`Slot`]. Dropped without an answer (a reader thread
/// that panicked), it answers with an error, so no request waits forever.
struct Reply(Arc<Slot>);

impl Reply {
    fn send(self, answer: Answer) {
        self.complete(answer);
    }

    fn complete(&self, answer: Answer) {
        let previous = {
            let mut state = lock(&self.0.state);
            match &*state {
                SlotState::Done(_) | SlotState::Taken => return,
                SlotState::Waiting | SlotState::Polled(_) => {
                    std::mem::replace(&mut *state, SlotState::Done(answer))
                }
            }
        };
        if let SlotState::Polled(waker) = previous {
            waker.wake();
        }
    }
}

impl Drop for Reply {
    fn drop(&mut self) {
        self.complete(Err(LookupError::Failed(
            "the verification reader stopped".to_owned(),
        )));
    }
}

/// The answer to one lookup, as a future.
pub struct Lookup(Arc<Slot>);

impl Future for Lookup {
    type Output = Answer;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Answer> {
        let mut state = lock(&self.0.state);
        match std::mem::replace(&mut *state, SlotState::Taken) {
            SlotState::Done(answer) => Poll::Ready(answer),
            SlotState::Polled(waker) if waker.will_wake(cx.waker()) => {
                *state = SlotState::Polled(waker);
                Poll::Pending
            }
            SlotState::Waiting | SlotState::Polled(_) => {
                *state = SlotState::Polled(cx.waker().clone());
                Poll::Pending
            }
            SlotState::Taken => Poll::Ready(Err(LookupError::Failed(
                "the lookup was already answered".to_owned(),
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use diesel::connection::SimpleConnection;
    use std::task::Wake;

    /// Runs a future on this thread, parking until it is woken.
    fn block_on<F: Future>(f: F) -> F::Output {
        struct Unpark(std::thread::Thread);
        impl Wake for Unpark {
            fn wake(self: Arc<Self>) {
                self.0.unpark();
            }
        }
        let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
        let mut cx = Context::from_waker(&waker);
        let mut f = std::pin::pin!(f);
        loop {
            if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
            std::thread::park();
        }
    }

    /// A migrated SQLite store with two certificates, codes `A…A` (valid)
    /// and `B…B` (superseded).
    fn store() -> (Store, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!("guild-verify-{}", uuid::Uuid::new_v4()));
        let store = Store::open(&format!("sqlite://{}/v.db", dir.display()), 2).unwrap();
        store
            .write(|c| {
                let DbConn::Sqlite(c) = c else { unreachable!() };
                c.batch_execute(
                    "INSERT INTO users (id, username, display_name, password_hash, role, status, created_at, updated_at)
                       VALUES ('u', 'admin', 'A', 'x', 'admin', 'active', '2026-01-01 00:00:00', '2026-01-01 00:00:00');
                     INSERT INTO people (id, name, gender, id_type, id_number, created_at, updated_at)
                       VALUES ('p', '张三丰', 'male', 'passport', 'E1', '2026-01-01 00:00:00', '2026-01-01 00:00:00');
                     INSERT INTO programs (id, code, name, target_categories, training_fee_fen, exam_fee_fen, skill_level,
                                           certificate_name, validity_years, status, created_at, updated_at)
                       VALUES ('g', 'GAS', 'Gas', '[]', 0, 0, 0, 'Gas certificate', 3, 'active', '2026-01-01 00:00:00', '2026-01-01 00:00:00');
                     INSERT INTO certificates (id, number, code, person_id, holder_name, program_id, issued_on, validity_years,
                                               period_started_on, valid_until, status, ended_at, issued_by, created_at, updated_at)
                       VALUES ('c1', 'GA2026000001', 'AAAAAAAAAAAAAAAAAAAAAAAA', 'p', '张三丰', 'g', '2026-04-10', 3,
                               '2026-04-10', '2029-04-09', 'active', NULL, 'u', '2026-04-10 02:00:00', '2026-04-10 02:00:00'),
                              ('c2', 'GA2026000002', 'BBBBBBBBBBBBBBBBBBBBBBBB', 'p', '张三丰', 'g', '2026-04-10', 3,
                               '2026-04-10', '2029-04-09', 'superseded', '2026-05-01 01:30:00', 'u', '2026-04-10 02:00:00', '2026-05-01 01:30:00');",
                )?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        (store, dir)
    }

    const A: &str = "AAAAAAAAAAAAAAAAAAAAAAAA";
    const B: &str = "BBBBBBBBBBBBBBBBBBBBBBBB";
    const Z: &str = "ZZZZZZZZZZZZZZZZZZZZZZZZ";

    #[test]
    fn a_batch_answers_each_code_in_order() {
        // rule CRT-2: one answer per asked code, in order, repeats included
        let (store, dir) = store();
        let rows = store.read(|c| find_by_codes(c, &[B, Z, A, B])).unwrap();
        let numbers: Vec<Option<&str>> = rows
            .iter()
            .map(|r| r.as_ref().map(|r| r.number.as_str()))
            .collect();
        assert_eq!(
            numbers,
            [
                Some("GA2026000002"),
                None,
                Some("GA2026000001"),
                Some("GA2026000002")
            ]
        );
        let b = rows[0].as_ref().unwrap();
        assert_eq!(b.status, "superseded");
        assert_eq!(b.program_code, "GAS");
        assert_eq!(b.certificate_name, "Gas certificate");
        assert!(b.ended_at.is_some());
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_reader_answers_lookups_from_many_threads() {
        // rule CRT-2, CRT-8: every lookup reads the rows as they are now
        let (store, dir) = store();
        let reader = VerificationReader::start(store.clone()).unwrap();
        std::thread::scope(|s| {
            for i in 0..40 {
                let reader = &reader;
                s.spawn(move || {
                    let (code, number) = [
                        (A, Some("GA2026000001")),
                        (B, Some("GA2026000002")),
                        (Z, None),
                    ][i % 3];
                    let row = block_on(reader.lookup(code.to_owned())).unwrap();
                    assert_eq!(row.map(|r| r.number).as_deref(), number);
                });
            }
        });
        // A change is seen by the next lookup: nothing is cached.
        store
            .write(|c| {
                diesel::update(certificates::table.filter(certificates::code.eq(A)))
                    .set(certificates::status.eq("revoked"))
                    .execute(c)?;
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let row = block_on(reader.lookup(A.to_owned())).unwrap().unwrap();
        assert_eq!(row.status, "revoked");
        drop(reader);
        drop(store);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_abandoned_lookup_answers_with_an_error() {
        let slot = Arc::new(Slot::default());
        let lookup = Lookup(Arc::clone(&slot));
        drop(Reply(slot));
        assert!(matches!(block_on(lookup), Err(LookupError::Failed(_))));
        let slot = Arc::new(Slot::default());
        let lookup = Lookup(Arc::clone(&slot));
        Reply(slot).send(Ok(None));
        assert_eq!(block_on(lookup), Ok(None));
    }
}
