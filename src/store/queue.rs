//! The lease-and-claim piece of the work queues: jobs (`store::jobs`),
//! channel posts (`store::outbox`) and the reconciler's checks
//! (`store::reconcile`) are claimed the same way, and jobs and posts are then
//! held, renewed, put back and settled the same way.
//!
//! **A claim** is one statement ([`Claim`]): `update <table> set <take>
//! where id in (<pick> for update skip locked) returning ...`. The pick
//! chooses the due rows, oldest first and up to a limit, through the table's
//! own index; `for update skip locked` passes over rows another claimer is
//! taking at that moment, so any number of replicas claim at once, none
//! waits for another, and no row is taken twice; `take` marks the chosen
//! rows taken, with a lease by the database's clock. What "due" means is each
//! table's: a job whose next attempt has come (or comes within the
//! look-ahead), a post with no older post of its session waiting, a session
//! whose sale should be up or lately came down.
//!
//! **A held queue** ([`Queue`]: `job`, `outbox`) goes further. A row waits as
//! `pending` until its `next_attempt_at`; a claim makes it held (`running`,
//! `sending`), counts the try (`attempts`, which drives the backoff) and the
//! claim (`claims`, never reset), and stamps it with its claimer
//! (`claimed_by`, the claimer's presence key, `claimed_until`). Every later
//! write about the row is fenced ([`Fence`]): it applies only while `claims`
//! is still the claim that was made and the row is still held, so a worker
//! whose lease ran out and was taken over changes nothing, and since the
//! counter only grows a new claim never carries a stale worker's token. The
//! holder renews its lease (`renew`, the heartbeat), puts the row back to
//! wait (`retry_later`), settles it (`finish`, `give_up`), or on shutdown
//! hands every row it holds back (`release_all`). A held row can be claimed
//! again once its lease ran out or its claimer's presence lock is gone
//! (`store::presence`): a killed process's rows are taken over at the next
//! look, a frozen one's within one lease.
//!
//! **A bare lease** ([`Lease`]: the reconciler's `session.reconcile_lease_until`)
//! has no holder and no fence: taking it only says "not again before then",
//! which keeps two replicas from checking one session at once and spaces
//! the checks of a session.
//!
//! A row a claim took but this code cannot read (a value it does not know:
//! written by a newer version, or by hand) is given up on with the reason
//! and logged at ERROR (`Queue::read_claimed`): it neither stalls the queue
//! nor comes back.
//!
//! Statements are composed from these parts once per process and kept, so
//! each is a `&'static str` as sqlx wants; the tests at the end show the
//! composed statements whole.

use std::sync::{LazyLock, OnceLock};
use std::time::Duration;

use sqlx::PgPool;

use super::StoreError;

/// The channel LISTEN/NOTIFY uses to wake schedulers when jobs or posts change.
pub const NOTIFY_CHANNEL: &str = "flashsale_jobs";

/// The right to record what became of a claimed row: its id and the claim
/// that was made (the fencing token, larger than any claim before it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fence {
    pub id: i64,
    pub token: i64,
}

/// Who claims rows of a held queue: the worker's name (`claimed_by`), its
/// presence key while it holds it (`store::presence`; without one, only the
/// lease protects the claim), and the lease.
#[derive(Debug, Clone, Copy)]
pub(super) struct Holder<'a> {
    pub worker: &'a str,
    pub presence: Option<i32>,
    pub lease: Duration,
}

impl<'a> Holder<'a> {
    /// Binds a held queue's claim statement's first parameters (`Queue::take`).
    pub(super) fn bind<'q, O>(&self, query: ClaimQuery<'q, O>) -> ClaimQuery<'q, O>
    where
        'a: 'q,
    {
        query
            .bind(self.worker)
            .bind(self.presence)
            .bind(self.lease.as_secs_f64())
    }
}

/// A claim statement, before it runs.
pub(super) type ClaimQuery<'q, O> =
    sqlx::query::QueryAs<'q, sqlx::Postgres, O, sqlx::postgres::PgArguments>;

/// One claim statement: marks the rows `pick` chooses as taken (`take`) and
/// returns them.
pub(super) struct Claim<'a> {
    /// Common table expressions the pick reads (`with ... `), or nothing.
    pub with: &'a str,
    /// The table, with an alias if the rest names one (`session s`).
    pub table: &'a str,
    /// The table's key, as the rest names it (`id`, `s.id`).
    pub key: &'a str,
    /// What taking a row sets.
    pub take: &'a str,
    /// Selects the keys of the rows to take, ordered and limited; the
    /// statement locks them `for update skip locked`.
    pub pick: &'a str,
    pub returning: &'a str,
}

impl Claim<'_> {
    pub(super) fn statement(&self) -> String {
        format!(
            "{}update {} set {} where {} in ({} for update skip locked) returning {}",
            self.with, self.table, self.take, self.key, self.pick, self.returning
        )
    }
}

/// A lease: a column that says until when, by the database's clock, a row is
/// taken.
pub(super) struct Lease {
    pub column: &'static str,
}

impl Lease {
    /// Sets the lease to run `secs` (a statement parameter, in seconds) from now.
    pub(super) fn take(&self, secs: &str) -> String {
        format!("{} = now() + make_interval(secs => {secs})", self.column)
    }

    /// Whether the lease of the row `alias` names is free: never taken, or run out.
    pub(super) fn free(&self, alias: &str) -> String {
        let column = self.column;
        format!("({alias}.{column} is null or {alias}.{column} <= now())")
    }
}

/// The held queue's lease column.
const CLAIMED_UNTIL: Lease = Lease {
    column: "claimed_until",
};

/// The job table (`store::jobs`): `running` while claimed, `done` or `failed`
/// when settled; every change stamps `updated_at` (the reconciler's
/// candidates and housekeeping read it), and a job put back wakes the
/// schedulers, whose sleep was chosen while it ran.
pub(super) static JOBS: Queue = Queue::new(
    "job",
    "running",
    "done",
    "failed",
    ", updated_at = now()",
    "",
    true,
);

/// The outbox (`store::outbox`): `sending` while claimed, `sent` or
/// `refused` when settled. A post put back waits for its backoff without
/// waking the schedulers: they look at a post being sent every heartbeat
/// anyway. A post put back because the chat did not take it was not
/// posted, so its try is no longer in doubt (`posting_since`, see
/// `store::outbox`).
pub(super) static OUTBOX: Queue = Queue::new(
    "outbox",
    "sending",
    "sent",
    "refused",
    "",
    ", posting_since = null",
    false,
);

/// A table of work that workers claim and hold under a fenced lease (see the
/// module docs). Its statements are composed at their first use.
pub(super) struct Queue {
    table: &'static str,
    /// The state of a row a worker holds.
    held: &'static str,
    /// The state of a row done with.
    done: &'static str,
    /// The state of a row given up on.
    given_up: &'static str,
    /// Set with every change of a row besides its own columns
    /// (`, updated_at = now()`), or nothing.
    touch: &'static str,
    /// Set as well when a row is put back to wait (`retry_later`), or nothing.
    on_retry: &'static str,
    /// Whether a row put back to wait wakes the schedulers (their sleep was
    /// chosen while the row was held).
    wake_on_retry: bool,
    statements: OnceLock<Statements>,
}

/// A held queue's own statements, composed once.
struct Statements {
    still_held: String,
    renew: String,
    retry_later: String,
    finish: String,
    give_up: String,
    release_all: String,
}

impl Queue {
    pub(super) const fn new(
        table: &'static str,
        held: &'static str,
        done: &'static str,
        given_up: &'static str,
        touch: &'static str,
        on_retry: &'static str,
        wake_on_retry: bool,
    ) -> Queue {
        Queue {
            table,
            held,
            done,
            given_up,
            touch,
            on_retry,
            wake_on_retry,
            statements: OnceLock::new(),
        }
    }

    /// What a claim sets: held by `$1` (worker) with presence key `$2`, the
    /// lease running `$3` seconds, one more try and one more claim. A claim
    /// statement's own parameters start at `$4`.
    pub(super) fn take(&self) -> String {
        format!(
            "state = '{}', attempts = attempts + 1, claims = claims + 1, claimed_by = $1, \
             claimed_presence = $2, {}{}",
            self.held,
            CLAIMED_UNTIL.take("$3"),
            self.touch
        )
    }

    /// Whether the row `alias` names (`""`: the table itself) may be claimed:
    /// waiting and due by `due_by` (an SQL time), or held by a claimer that is
    /// gone (its lease ran out, or its presence key is held by nobody). A
    /// claim without a key waits for its lease; hence the `is not null`
    /// before the `not in`, which is true for a null key when nobody is present.
    pub(super) fn claimable(&self, alias: &str, due_by: &str) -> String {
        let a = if alias.is_empty() {
            String::new()
        } else {
            format!("{alias}.")
        };
        format!(
            "(({a}state = 'pending' and {a}next_attempt_at <= {due_by}) \
             or ({a}state = '{held}' and ({a}claimed_until < now() \
                 or ({a}claimed_presence is not null \
                     and {a}claimed_presence not in (select key from present_worker)))))",
            held = self.held
        )
    }

    /// Sets `set` (and the queue's touch) on the row `$1` while the claim
    /// `$2` still holds it; further parameters start at `$3`.
    pub(super) fn fenced_update(&self, set: &str) -> String {
        format!(
            "update {} set {set}{} where {}",
            self.table,
            self.touch,
            self.fenced()
        )
    }

    fn fenced(&self) -> String {
        format!("id = $1 and claims = $2 and state = '{}'", self.held)
    }

    /// When the queue's next row may be claimed (`now()` for one whose
    /// claimer is gone), looking at held rows at least every `$1` seconds;
    /// reads the CTE `present` (who is present). Null when nothing waits.
    fn next_claimable(&self) -> String {
        format!(
            "(select min(case when state = 'pending' then next_attempt_at \
                              when claimed_presence is not null \
                                   and claimed_presence not in (select key from present) then now() \
                              else least(claimed_until, now() + make_interval(secs => $1)) end) \
              from {} where state in ('pending', '{}'))",
            self.table, self.held
        )
    }

    fn statements(&'static self) -> &'static Statements {
        self.statements.get_or_init(|| {
            let retry = self.fenced_update(&format!(
                "state = 'pending', next_attempt_at = now() + make_interval(secs => $3), \
                 last_error = $4, claimed_by = null, claimed_presence = null, claimed_until = null{}",
                self.on_retry
            ));
            Statements {
                still_held: format!(
                    "select id from {} where {} for update",
                    self.table,
                    self.fenced()
                ),
                renew: format!(
                    "update {t} set {}{} \
                     from unnest($1::bigint[], $2::bigint[]) as held (id, claim) \
                     where {t}.id = held.id and {t}.claims = held.claim and {t}.state = '{}'",
                    CLAIMED_UNTIL.take("$3"),
                    self.touch,
                    self.held,
                    t = self.table,
                ),
                // The NOTIFY is delivered at commit, so listeners never see a
                // retry that rolled back.
                retry_later: if self.wake_on_retry {
                    format!(
                        "with retried as ({retry} returning session_id) \
                         select pg_notify($5, session_id::text) from retried"
                    )
                } else {
                    retry
                },
                finish: self.fenced_update(&format!(
                    "state = '{}', claimed_until = null, last_error = null",
                    self.done
                )),
                give_up: self.fenced_update(&format!(
                    "state = '{}', last_error = $3, claimed_until = null",
                    self.given_up
                )),
                release_all: format!(
                    "update {} set state = 'pending', next_attempt_at = least(next_attempt_at, now()), \
                     claimed_by = null, claimed_presence = null, claimed_until = null{} \
                     where claimed_by = $1 and state = '{}'",
                    self.table, self.touch, self.held
                ),
            }
        })
    }

    /// True while the fence still holds the row; locks it until the
    /// transaction ends, so an outcome and what it implies commit together.
    pub(super) async fn still_held(
        &'static self,
        conn: impl sqlx::PgExecutor<'_>,
        fence: Fence,
    ) -> Result<bool, StoreError> {
        let held: Option<i64> = sqlx::query_scalar(self.statements().still_held.as_str())
            .bind(fence.id)
            .bind(fence.token)
            .fetch_optional(conn)
            .await?;
        Ok(held.is_some())
    }

    /// Extends the lease of rows their claimer still holds, each under its
    /// own claim (the heartbeat). Returns how many it still held: fewer than
    /// asked means another worker took some over.
    pub(super) async fn renew(
        &'static self,
        conn: impl sqlx::PgExecutor<'_>,
        fences: &[Fence],
        lease: Duration,
    ) -> Result<u64, StoreError> {
        let (ids, tokens): (Vec<i64>, Vec<i64>) = fences.iter().map(|f| (f.id, f.token)).unzip();
        let renewed = sqlx::query(self.statements().renew.as_str())
            .bind(&ids)
            .bind(&tokens)
            .bind(lease.as_secs_f64())
            .execute(conn)
            .await?;
        Ok(renewed.rows_affected())
    }

    /// Puts the row back to wait `wait`, keeping `error` for the record.
    /// False when the fence no longer holds it.
    pub(super) async fn retry_later(
        &'static self,
        conn: impl sqlx::PgExecutor<'_>,
        fence: Fence,
        wait: Duration,
        error: &str,
    ) -> Result<bool, StoreError> {
        let mut query = sqlx::query(self.statements().retry_later.as_str())
            .bind(fence.id)
            .bind(fence.token)
            .bind(wait.as_secs_f64())
            .bind(error);
        if self.wake_on_retry {
            query = query.bind(NOTIFY_CHANNEL);
        }
        Ok(query.execute(conn).await?.rows_affected() == 1)
    }

    /// Records that the row is done with. False when the fence no longer holds it.
    pub(super) async fn finish(
        &'static self,
        conn: impl sqlx::PgExecutor<'_>,
        fence: Fence,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(self.statements().finish.as_str())
            .bind(fence.id)
            .bind(fence.token)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives up on the row for good, with why. False when the fence no
    /// longer holds it.
    pub(super) async fn give_up(
        &'static self,
        conn: impl sqlx::PgExecutor<'_>,
        fence: Fence,
        error: &str,
    ) -> Result<bool, StoreError> {
        let given_up = sqlx::query(self.statements().give_up.as_str())
            .bind(fence.id)
            .bind(fence.token)
            .bind(error)
            .execute(conn)
            .await?;
        Ok(given_up.rows_affected() == 1)
    }

    /// On graceful shutdown: hands every row `worker` holds back, due at once.
    /// The next claim of each gets a larger token.
    pub(super) async fn release_all(
        &'static self,
        pool: &PgPool,
        worker: &str,
    ) -> Result<u64, StoreError> {
        let released = sqlx::query(self.statements().release_all.as_str())
            .bind(worker)
            .execute(pool)
            .await?;
        Ok(released.rows_affected())
    }

    /// The claimed rows as `R` reads them. A row it cannot read (an unknown
    /// stored value) is given up on with the reason and logged: run or
    /// delivered it cannot be, and left held it would be claimed again at
    /// every lease.
    pub(super) async fn read_claimed<R: ClaimedRow>(
        &'static self,
        pool: &PgPool,
        rows: Vec<R>,
    ) -> Vec<R::Read> {
        let mut read = Vec::with_capacity(rows.len());
        for row in rows {
            let fence = row.fence();
            match row.read() {
                Ok(row) => read.push(row),
                Err(error) => {
                    tracing::error!(table = self.table, id = fence.id, %error, "a claimed row could not be read; it is given up");
                    if let Err(e) = self.give_up(pool, fence, &error.to_string()).await {
                        tracing::warn!(table = self.table, id = fence.id, error = %e, "could not give up the unreadable row; it is claimed again when its lease runs out");
                    }
                }
            }
        }
        read
    }
}

/// A claimed row as the database returns it, before its stored values are
/// read into their types.
pub(super) trait ClaimedRow {
    type Read;
    fn fence(&self) -> Fence;
    fn read(self) -> Result<Self::Read, StoreError>;
}

/// How long until the next job or outbox post may be claimed, by the
/// database clock (zero: something is due now). `None` when nothing is waiting.
///
/// A held job or post is looked at again at least every `recheck`: its
/// process may die at any moment, and nobody would be woken to notice (a
/// dead process sends no NOTIFY). One whose process is gone is due now.
pub async fn time_until_next(
    pool: &PgPool,
    recheck: Duration,
) -> Result<Option<Duration>, StoreError> {
    static NEXT: LazyLock<String> = LazyLock::new(|| {
        format!(
            "with present as (select key from present_worker) \
             select extract(epoch from least({}, {}) - now())::float8",
            JOBS.next_claimable(),
            OUTBOX.next_claimable()
        )
    });
    let seconds: Option<f64> = sqlx::query_scalar(NEXT.as_str())
        .bind(recheck.as_secs_f64())
        .fetch_one(pool)
        .await?;
    Ok(seconds.map(|s| Duration::from_secs_f64(s.max(0.0))))
}

/// Tells every scheduler loop that something was claimed. A loop that slept
/// a whole poll because nothing was due then knows a row is held, and looks
/// at it again within a heartbeat (`time_until_next`): if the claimer dies,
/// that is how soon it is noticed.
pub async fn wake_schedulers(pool: &PgPool) -> Result<(), StoreError> {
    sqlx::query("select pg_notify($1, 'claimed')")
        .bind(NOTIFY_CHANNEL)
        .execute(pool)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::jobs;
    use super::*;

    /// The statement with its whitespace runs made single spaces.
    fn flat(sql: &str) -> String {
        sql.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn a_job_claim_reads_as_one_statement_through_the_due_index() {
        assert_eq!(
            flat(jobs::claim_statement()),
            flat(
                "update job set state = 'running', attempts = attempts + 1, claims = claims + 1, \
                     claimed_by = $1, claimed_presence = $2, \
                     claimed_until = now() + make_interval(secs => $3), updated_at = now() \
                 where id in (select id from job \
                     where ((state = 'pending' and next_attempt_at <= now() + make_interval(secs => $5)) \
                        or (state = 'running' and (claimed_until < now() \
                            or (claimed_presence is not null \
                                and claimed_presence not in (select key from present_worker))))) \
                     order by next_attempt_at limit $4 for update skip locked) \
                 returning id, session_id, kind, due_at, now() as claimed_at, attempts as attempt, \
                     claims as claim, idempotency_key, next_attempt_at as acts_at, \
                     (extract(epoch from next_attempt_at - clock_timestamp()) * 1000000)::int8 as starts_in_us"
            )
        );
    }

    #[test]
    fn a_jobs_outcome_is_fenced_by_its_claim() {
        let sql = JOBS.statements();
        assert_eq!(
            flat(&sql.finish),
            "update job set state = 'done', claimed_until = null, last_error = null, updated_at = now() \
             where id = $1 and claims = $2 and state = 'running'"
        );
        assert_eq!(
            flat(&sql.give_up),
            "update job set state = 'failed', last_error = $3, claimed_until = null, updated_at = now() \
             where id = $1 and claims = $2 and state = 'running'"
        );
        assert_eq!(
            flat(&sql.retry_later),
            "with retried as (update job set state = 'pending', \
             next_attempt_at = now() + make_interval(secs => $3), last_error = $4, claimed_by = null, \
             claimed_presence = null, claimed_until = null, updated_at = now() \
             where id = $1 and claims = $2 and state = 'running' returning session_id) \
             select pg_notify($5, session_id::text) from retried"
        );
        assert_eq!(
            flat(&sql.still_held),
            "select id from job where id = $1 and claims = $2 and state = 'running' for update"
        );
        assert_eq!(
            flat(&sql.renew),
            "update job set claimed_until = now() + make_interval(secs => $3), updated_at = now() \
             from unnest($1::bigint[], $2::bigint[]) as held (id, claim) \
             where job.id = held.id and job.claims = held.claim and job.state = 'running'"
        );
        assert_eq!(
            flat(&sql.release_all),
            "update job set state = 'pending', next_attempt_at = least(next_attempt_at, now()), \
             claimed_by = null, claimed_presence = null, claimed_until = null, updated_at = now() \
             where claimed_by = $1 and state = 'running'"
        );
    }

    #[test]
    fn a_posts_outcome_is_fenced_by_its_claim_and_wakes_nobody() {
        let sql = OUTBOX.statements();
        assert_eq!(
            flat(&sql.give_up),
            "update outbox set state = 'refused', last_error = $3, claimed_until = null \
             where id = $1 and claims = $2 and state = 'sending'"
        );
        assert_eq!(
            flat(&sql.retry_later),
            "update outbox set state = 'pending', next_attempt_at = now() + make_interval(secs => $3), \
             last_error = $4, claimed_by = null, claimed_presence = null, claimed_until = null, \
             posting_since = null \
             where id = $1 and claims = $2 and state = 'sending'"
        );
        assert_eq!(
            flat(&sql.renew),
            "update outbox set claimed_until = now() + make_interval(secs => $3) \
             from unnest($1::bigint[], $2::bigint[]) as held (id, claim) \
             where outbox.id = held.id and outbox.claims = held.claim and outbox.state = 'sending'"
        );
        assert_eq!(
            flat(&sql.release_all),
            "update outbox set state = 'pending', next_attempt_at = least(next_attempt_at, now()), \
             claimed_by = null, claimed_presence = null, claimed_until = null \
             where claimed_by = $1 and state = 'sending'"
        );
    }

    #[test]
    fn a_bare_lease_is_free_when_never_taken_or_run_out() {
        let lease = Lease {
            column: "reconcile_lease_until",
        };
        assert_eq!(
            lease.free("c"),
            "(c.reconcile_lease_until is null or c.reconcile_lease_until <= now())"
        );
        assert_eq!(
            lease.take("$1"),
            "reconcile_lease_until = now() + make_interval(secs => $1)"
        );
    }
}
