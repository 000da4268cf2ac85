//! The queries: daily sums, sellers, the call history and one call, term and
//! keyword counts, comments. Child rows count only when they belong to the
//! call's current `(call_id, version)`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::{ClickHouseStore, DAILY_COLUMNS};
use crate::Result;
use crate::columns::{self, Backend};
use crate::rows::CallRow;
use crate::types::*;

/// One row of `seller_daily`, in [`DAILY_COLUMNS`] order.
#[derive(Debug, clickhouse::Row, Deserialize)]
struct DailyRow {
    seller_id: String,
    team: String,
    #[serde(with = "clickhouse::serde::chrono::date")]
    day: NaiveDate,
    calls: u64,
    low_confidence_calls: u64,
    duration_s: f64,
    talk_ratio_sum: f64,
    talk_ratio_n: u64,
    seller_wpm_sum: f64,
    seller_wpm_n: u64,
    switches: u64,
    pause_sum: f64,
    pause_n: u64,
    longest_customer_monologue_sum: f64,
    interruptions: u64,
    seller_questions: u64,
    positive: u64,
    neutral: u64,
    negative: u64,
    won: u64,
    lost: u64,
}

/// One row of `comments`; deleting one writes it again as a tombstone.
#[derive(Debug, clickhouse::Row, Deserialize, serde::Serialize)]
pub(super) struct CommentRow {
    pub(super) comment_id: String,
    pub(super) call_id: String,
    pub(super) author: String,
    pub(super) author_role: String,
    pub(super) at_s: Option<f64>,
    pub(super) text: String,
    pub(super) parent_id: Option<String>,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    pub(super) created_at: DateTime<Utc>,
    pub(super) version: u64,
    pub(super) is_deleted: u8,
    pub(super) turn: Option<u32>,
    pub(super) start_s: Option<f64>,
    pub(super) end_s: Option<f64>,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis::option")]
    pub(super) edited_at: Option<DateTime<Utc>>,
}

/// The columns [`CommentRow`] reads.
const COMMENT_COLUMNS: &str = "comment_id, call_id, author, author_role, at_s, text, parent_id, created_at, \
     version, is_deleted, turn, start_s, end_s, edited_at";

impl CommentRow {
    /// The stored comment.
    pub(super) fn into_comment(self) -> Comment {
        Comment {
            comment_id: self.comment_id,
            created_at: self.created_at,
            edited_at: self.edited_at,
            comment: NewComment {
                call_id: self.call_id,
                author: self.author,
                author_role: self.author_role,
                at_s: self.at_s,
                text: self.text,
                parent_id: self.parent_id,
                turn: self.turn,
                start_s: self.start_s,
                end_s: self.end_s,
            },
        }
    }
}

/// A row of `shares` (one per recipient).
#[derive(Debug, Clone, clickhouse::Row, serde::Serialize, Deserialize)]
pub(super) struct ShareRow {
    pub(super) share_id: String,
    pub(super) recipient: String,
    pub(super) call_id: String,
    pub(super) seller_id: String,
    pub(super) start_s: Option<f64>,
    pub(super) end_s: Option<f64>,
    pub(super) note: String,
    pub(super) created_by: String,
    #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
    pub(super) created_at: DateTime<Utc>,
    pub(super) version: u64,
    pub(super) is_deleted: u8,
    pub(super) collection: String,
}

/// The columns [`ShareRow`] reads.
const SHARE_COLUMNS: &str = "share_id, recipient, call_id, seller_id, start_s, end_s, note, created_by, created_at, version, is_deleted, collection";

/// Rows (ordered by share) grouped into shares, in first-seen order.
fn group_shares(rows: Vec<ShareRow>) -> Vec<Share> {
    let mut out: Vec<Share> = Vec::new();
    for r in rows {
        match out.last_mut() {
            Some(last) if last.share_id == r.share_id => last.share.recipients.push(r.recipient),
            _ => out.push(Share {
                share_id: r.share_id,
                created_at: r.created_at,
                share: NewShare {
                    call_id: r.call_id,
                    seller_id: r.seller_id,
                    start_s: r.start_s,
                    end_s: r.end_s,
                    note: r.note,
                    created_by: r.created_by,
                    recipients: vec![r.recipient],
                    collection: r.collection,
                },
            }),
        }
    }
    out
}

/// The rows of one share (not revoked).
pub(super) async fn share_rows(store: &ClickHouseStore, share_id: &str) -> Result<Vec<ShareRow>> {
    let sql = format!("SELECT {SHARE_COLUMNS} FROM shares FINAL WHERE share_id = ? ORDER BY recipient");
    store.timed(store.client.query(&sql).bind(share_id).fetch_all()).await
}

/// One share, if it exists and is not revoked.
pub(super) async fn share(store: &ClickHouseStore, share_id: &str) -> Result<Option<Share>> {
    Ok(group_shares(share_rows(store, share_id).await?).pop())
}

/// A call's shares, oldest first.
pub(super) async fn call_shares(store: &ClickHouseStore, call_id: &str) -> Result<Vec<Share>> {
    let sql = format!(
        "SELECT {SHARE_COLUMNS} FROM shares FINAL WHERE call_id = ? ORDER BY created_at, share_id, recipient"
    );
    Ok(group_shares(store.timed(store.client.query(&sql).bind(call_id).fetch_all()).await?))
}

/// The shares naming any of the recipients, newest first.
pub(super) async fn shares_for(store: &ClickHouseStore, recipients: &[String]) -> Result<Vec<Share>> {
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {SHARE_COLUMNS} FROM shares FINAL WHERE share_id IN \
         (SELECT share_id FROM shares FINAL WHERE recipient IN ?) \
         ORDER BY created_at DESC, share_id DESC, recipient"
    );
    Ok(group_shares(store.timed(store.client.query(&sql).bind(recipients).fetch_all()).await?))
}

/// Per-seller, per-day sums from `seller_daily`.
pub(super) async fn daily(
    store: &ClickHouseStore,
    sellers: &SellerFilter,
    range: DateRange,
) -> Result<Vec<DailyAggregate>> {
    let (filter, value) = match sellers {
        SellerFilter::Seller(s) => ("seller_id = ?", Some(s)),
        SellerFilter::Team(t) => ("team = ?", Some(t)),
        SellerFilter::All => ("1 = 1", None),
    };
    let sql = format!(
        "SELECT {DAILY_COLUMNS} FROM seller_daily FINAL WHERE {filter} AND day >= ? AND day <= ? \
         ORDER BY seller_id, day"
    );
    let mut q = store.client.query(&sql);
    if let Some(v) = value {
        q = q.bind(v);
    }
    let rows: Vec<DailyRow> =
        store.timed(q.bind(range.from.to_string()).bind(range.to.to_string()).fetch_all()).await?;
    Ok(rows
        .into_iter()
        .map(|r| DailyAggregate {
            seller_id: r.seller_id,
            team: r.team,
            day: r.day,
            calls: r.calls,
            low_confidence_calls: r.low_confidence_calls,
            duration_s: r.duration_s,
            talk_ratio_sum: r.talk_ratio_sum,
            talk_ratio_n: r.talk_ratio_n,
            seller_wpm_sum: r.seller_wpm_sum,
            seller_wpm_n: r.seller_wpm_n,
            switches: r.switches,
            pause_sum: r.pause_sum,
            pause_n: r.pause_n,
            longest_customer_monologue_sum: r.longest_customer_monologue_sum,
            interruptions: r.interruptions,
            seller_questions: r.seller_questions,
            positive: r.positive,
            neutral: r.neutral,
            negative: r.negative,
            won: r.won,
            lost: r.lost,
        })
        .collect())
}

/// Sellers with calls, with their latest team.
pub(super) async fn sellers(store: &ClickHouseStore) -> Result<Vec<SellerRef>> {
    #[derive(clickhouse::Row, Deserialize)]
    struct Row {
        seller_id: String,
        team: String,
        calls: u64,
    }
    let rows: Vec<Row> = store
        .timed(
            store.client
                .query(
                    "SELECT seller_id, argMax(team, day) AS team, sum(calls) AS calls FROM seller_daily FINAL \
                     GROUP BY seller_id HAVING calls > 0 ORDER BY seller_id",
                )
                .fetch_all(),
        )
        .await?;
    Ok(rows.into_iter().map(|r| SellerRef { seller_id: r.seller_id, team: r.team, calls: r.calls }).collect())
}

/// One page of a seller's calls.
pub(super) async fn call_history(store: &ClickHouseStore, query: &HistoryQuery) -> Result<Page<CallSummary>> {
    let (from, to) = ClickHouseStore::bounds(query.range);
    let mut filter = String::from("seller_id = ? AND started_at >= ? AND started_at < ?");
    if query.term.is_some() {
        filter.push_str(
            " AND call_id IN (SELECT call_id FROM mentions WHERE seller_id = ? AND term = ? \
             AND (call_id, version) IN (SELECT call_id, version FROM calls FINAL WHERE seller_id = ?)",
        );
        filter.push_str(if query.term_role.is_some() { " AND role = ?)" } else { ")" });
    }
    if query.keyword.is_some() {
        filter.push_str(
            " AND call_id IN (SELECT call_id FROM customer_keywords WHERE seller_id = ? AND phrase = ? \
             AND (call_id, version) IN (SELECT call_id, version FROM calls FINAL WHERE seller_id = ?))",
        );
    }
    let (order, dir) = (query.sort.column(), query.direction());
    let bind = |mut q: clickhouse::query::Query| {
        q = q.bind(&query.seller_id).bind(&from).bind(&to);
        if let Some(term) = &query.term {
            q = q.bind(&query.seller_id).bind(term).bind(&query.seller_id);
            if let Some(role) = query.term_role {
                q = q.bind(role_str(role));
            }
        }
        if let Some(keyword) = &query.keyword {
            q = q.bind(&query.seller_id).bind(keyword).bind(&query.seller_id);
        }
        q
    };
    let size = query.page_size.clamp(1, 500);
    let sql = format!(
        "SELECT {} FROM calls FINAL WHERE {filter} ORDER BY {order} {dir} NULLS LAST, call_id LIMIT ? OFFSET ?",
        columns::select_list(Backend::ClickHouse, true)
    );
    let rows: Vec<CallRow> = store
        .timed(
            bind(store.client.query(&sql))
                .bind(size)
                .bind(u64::from(query.page) * u64::from(size))
                .fetch_all(),
        )
        .await?;
    let total: u64 = store
        .timed(
            bind(store.client.query(&format!("SELECT count() FROM calls FINAL WHERE {filter}"))).fetch_one(),
        )
        .await?;
    Ok(Page { items: rows.iter().map(CallRow::summary).collect(), total })
}

/// One call with its transcript and signals.
pub(super) async fn call(store: &ClickHouseStore, call_id: &str) -> Result<Option<CallDetail>> {
    let sql = format!(
        "SELECT {} FROM calls FINAL WHERE call_id = ? LIMIT 1",
        columns::select_list(Backend::ClickHouse, false)
    );
    let row: Option<CallRow> = store.timed(store.client.query(&sql).bind(call_id).fetch_optional()).await?;
    Ok(row.map(|r| r.detail()))
}

/// Mentions per tracked term in a seller's calls.
pub(super) async fn mention_counts(
    store: &ClickHouseStore,
    seller_id: &str,
    range: DateRange,
) -> Result<Vec<TermCount>> {
    #[derive(clickhouse::Row, Deserialize)]
    struct Row {
        kind: String,
        term: String,
        mentions: u64,
        by_customer: u64,
        calls: u64,
        customer_calls: u64,
    }
    let (from, to) = ClickHouseStore::bounds(range);
    let rows: Vec<Row> = store
        .timed(
            store
                .client
                .query(
                    "SELECT kind, term, count() AS mentions, countIf(role = 'customer') AS by_customer, \
                     uniqExact(call_id) AS calls, uniqExactIf(call_id, role = 'customer') AS customer_calls \
                     FROM mentions \
                     WHERE seller_id = ? AND started_at >= ? AND started_at < ? \
                     AND (call_id, version) IN (SELECT call_id, version FROM calls FINAL \
                          WHERE seller_id = ? AND started_at >= ? AND started_at < ?) \
                     GROUP BY kind, term ORDER BY mentions DESC, term",
                )
                .bind(seller_id)
                .bind(&from)
                .bind(&to)
                .bind(seller_id)
                .bind(&from)
                .bind(&to)
                .fetch_all(),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| TermCount {
            kind: parse_kind(&r.kind),
            term: r.term,
            mentions: r.mentions,
            by_customer: r.by_customer,
            calls: r.calls,
            customer_calls: r.customer_calls,
        })
        .collect())
}

/// A seller's customer phrases with their counts, document frequencies (from
/// `keyword_daily`) and the number of calls in the range (from `seller_daily`).
pub(super) async fn customer_keywords(
    store: &ClickHouseStore,
    seller_id: &str,
    range: DateRange,
) -> Result<KeywordFigures> {
    let (from, to) = ClickHouseStore::bounds(range);
    let (first, last) = (range.from.to_string(), range.to.to_string());
    let phrases = store.timed(
        store
            .client
            .query(
                "SELECT m.phrase AS phrase, m.count AS count, m.calls AS calls, d.df AS df FROM \
                   (SELECT phrase, sum(count) AS count, uniqExact(call_id) AS calls FROM customer_keywords \
                    WHERE seller_id = ? AND started_at >= ? AND started_at < ? \
                      AND (call_id, version) IN (SELECT call_id, version FROM calls FINAL \
                           WHERE seller_id = ? AND started_at >= ? AND started_at < ?) \
                    GROUP BY phrase) AS m \
                 LEFT JOIN (SELECT phrase, sum(calls) AS df FROM keyword_daily FINAL \
                            WHERE day >= ? AND day <= ? GROUP BY phrase) AS d ON d.phrase = m.phrase \
                 ORDER BY phrase",
            )
            .bind(seller_id)
            .bind(&from)
            .bind(&to)
            .bind(seller_id)
            .bind(&from)
            .bind(&to)
            .bind(&first)
            .bind(&last)
            .fetch_all::<PhraseFigures>(),
    );
    let range_calls = store.timed(
        store
            .client
            .query("SELECT sum(calls) FROM seller_daily FINAL WHERE day >= ? AND day <= ?")
            .bind(&first)
            .bind(&last)
            .fetch_one::<u64>(),
    );
    let (phrases, range_calls) = tokio::try_join!(phrases, range_calls)?;
    Ok(KeywordFigures { range_calls, phrases })
}

/// One comment row, if it exists and is not deleted.
pub(super) async fn comment_row(store: &ClickHouseStore, comment_id: &str) -> Result<Option<CommentRow>> {
    let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments FINAL WHERE comment_id = ? LIMIT 1");
    store.timed(store.client.query(&sql).bind(comment_id).fetch_optional()).await
}

/// A call's comments, oldest first.
pub(super) async fn comments(store: &ClickHouseStore, call_id: &str) -> Result<Vec<Comment>> {
    let rows: Vec<CommentRow> = store
        .timed(
            store
                .client
                .query(&format!(
                    "SELECT {COMMENT_COLUMNS} FROM comments FINAL WHERE call_id = ? \
                         ORDER BY created_at, comment_id"
                ))
                .bind(call_id)
                .fetch_all(),
        )
        .await?;
    Ok(rows.into_iter().map(CommentRow::into_comment).collect())
}

/// The latest comments on a seller's calls of a range.
pub(super) async fn seller_comments(
    store: &ClickHouseStore,
    seller_id: &str,
    range: DateRange,
    limit: usize,
) -> Result<Vec<Comment>> {
    let (from, to) = ClickHouseStore::bounds(range);
    let rows: Vec<CommentRow> = store
        .timed(
            store
                .client
                .query(&format!(
                    "SELECT {COMMENT_COLUMNS} FROM comments FINAL WHERE call_id IN (SELECT call_id \
                         FROM calls FINAL WHERE seller_id = ? AND started_at >= ? AND started_at < ?) \
                         ORDER BY created_at DESC, comment_id DESC LIMIT ?"
                ))
                .bind(seller_id)
                .bind(&from)
                .bind(&to)
                .bind(u64::try_from(limit).unwrap_or(u64::MAX))
                .fetch_all(),
        )
        .await?;
    Ok(rows.into_iter().map(CommentRow::into_comment).collect())
}

/// Rows a search reads first; candidates the phrase check drops (a `LIKE`
/// match inside longer words) are made up for by reading on, twice as many
/// each time (up to 64 times as many), so a phrase whose words hide in many
/// others costs a few queries, not one per page.
const SEARCH_PAGE: u64 = 200;

/// The words of an utterance as the search splits them, lower-cased: the
/// expression of the `text_words` index (migration `010_search_words`), which
/// `hasToken` on this same expression uses.
const WORDS_EXPR: &str = r"lowerUTF8(replaceRegexpAll(text, '[^\\p{L}\\p{N}]+', ' '))";

/// Utterances holding the phrase, newest first. `lowerUTF8(text) LIKE
/// '%w1%w2%'` and, for each word the `text_words` index can find,
/// `hasToken(words, 'w')` select the candidates (the index skips granules
/// without the words), `locate` checks their words (see [`crate::search`]).
/// The range is read window by window, newest first
/// ([`crate::search::Windows`]), until `limit` hits are found, so a frequent
/// phrase reads about a week of the scope's lines. Each page of candidates is
/// then kept to the rows of each call's current `(call_id, version)`: one
/// query on `calls` for the page's calls, cheaper than joining every window's
/// calls.
pub(super) async fn search(store: &ClickHouseStore, q: &SearchQuery) -> Result<Vec<SearchHit>> {
    #[derive(clickhouse::Row, Deserialize)]
    struct Row {
        call_id: String,
        seller_id: String,
        #[serde(with = "clickhouse::serde::chrono::datetime64::millis")]
        started_at: DateTime<Utc>,
        turn: u32,
        role: String,
        start_s: f64,
        end_s: f64,
        text: String,
        version: u64,
    }
    #[derive(clickhouse::Row, Deserialize)]
    struct Version {
        call_id: String,
        version: u64,
    }
    let phrase = crate::search::phrase_words(&q.phrase)?;
    let limit = q.limit.clamp(1, 500);
    // The scope.
    let mut scope = String::new();
    let (mut sellers, mut whole, mut clips) = (Vec::new(), Vec::new(), Vec::new());
    if let SearchScope::Only { sellers: s, shared } = &q.scope {
        sellers.clone_from(s);
        for span in shared {
            match span.clip {
                None => whole.push(span.call_id.clone()),
                Some((start, end)) => clips.push((span.call_id.clone(), start, end)),
            }
        }
        let mut any = Vec::new();
        if !sellers.is_empty() {
            any.push("seller_id IN ?".to_owned());
        }
        if !whole.is_empty() {
            any.push("call_id IN ?".to_owned());
        }
        any.extend(clips.iter().map(|_| "(call_id = ? AND end_s > ? AND start_s < ?)".to_owned()));
        if any.is_empty() {
            return Ok(Vec::new());
        }
        scope = format!(" AND ({})", any.join(" OR "));
    }
    let tokens: Vec<&String> = {
        let mut t: Vec<&String> = phrase.iter().filter(|w| crate::search::indexed_word(w)).collect();
        t.sort();
        t.dedup();
        t
    };
    let has_tokens: String = tokens.iter().map(|_| format!(" AND hasToken({WORDS_EXPR}, ?)")).collect();
    let seller = if q.seller.is_some() { " AND seller_id = ?" } else { "" };
    let role = if q.said_by.is_some() { " AND role = ?" } else { "" };
    let sql = format!(
        "SELECT call_id, seller_id, started_at, turn, role, start_s, end_s, text, version FROM utterances \
         WHERE started_at >= ? AND started_at < ? AND lowerUTF8(text) LIKE ?{has_tokens}{scope}{seller}{role} \
         ORDER BY started_at DESC, call_id, turn LIMIT ? OFFSET ?"
    );
    let versions_sql = "SELECT call_id, version FROM calls FINAL \
                        WHERE started_at >= ? AND started_at < ? AND call_id IN ?";
    let mut hits = Vec::new();
    let mut windows = crate::search::Windows::new(q.range);
    while let Some(window) = windows.next(hits.len(), limit) {
        let (from, to) = ClickHouseStore::bounds(window);
        let (mut offset, mut page) = (0u64, SEARCH_PAGE);
        loop {
            let mut query =
                store.client.query(&sql).bind(&from).bind(&to).bind(crate::search::like_pattern(&phrase));
            for token in &tokens {
                query = query.bind(token.as_str());
            }
            if !sellers.is_empty() {
                query = query.bind(&sellers);
            }
            if !whole.is_empty() {
                query = query.bind(&whole);
            }
            for (id, start, end) in &clips {
                query = query.bind(id).bind(start).bind(end);
            }
            if let Some(s) = &q.seller {
                query = query.bind(s);
            }
            if let Some(r) = q.said_by {
                query = query.bind(role_str(r));
            }
            let rows: Vec<Row> = store.timed(query.bind(page).bind(offset).fetch_all()).await?;
            let read = rows.len() as u64;
            // The page's rows of a call's current version only.
            let mut ids: Vec<&str> = rows.iter().map(|r| r.call_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            let current: std::collections::HashMap<String, u64> = if ids.is_empty() {
                Default::default()
            } else {
                let query = store.client.query(versions_sql).bind(&from).bind(&to).bind(&ids);
                let versions: Vec<Version> = store.timed(query.fetch_all()).await?;
                versions.into_iter().map(|v| (v.call_id, v.version)).collect()
            };
            hits.extend(rows.into_iter().filter(|r| current.get(&r.call_id) == Some(&r.version)).filter_map(
                |r| {
                    crate::search::Candidate {
                        call_id: r.call_id,
                        seller_id: r.seller_id,
                        started_at: r.started_at,
                        turn: r.turn,
                        role: r.role,
                        start_s: r.start_s,
                        end_s: r.end_s,
                        text: r.text,
                    }
                    .hit(&phrase)
                },
            ));
            if hits.len() >= limit || read < page {
                break;
            }
            offset += page;
            page = (page * 2).min(64 * SEARCH_PAGE);
        }
        if hits.len() >= limit {
            break;
        }
    }
    hits.truncate(limit);
    Ok(hits)
}
