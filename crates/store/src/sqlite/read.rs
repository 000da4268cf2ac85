//! The queries, each a synchronous function of the connection (the store runs
//! them on the blocking pool).

use chrono::NaiveDate;
use rusqlite::{Connection, OptionalExtension, params};

use super::{db_err, from_millis, millis};
use crate::Result;
use crate::columns::{self, Backend};
use crate::rows::CallRow;
use crate::types::*;

/// Reads a [`CallRow`] from a `SELECT` of [`columns::select_list`], by
/// position: its columns come in `CallRow`'s field order (a test in `columns`
/// pins it), and the fields below are read in that order (Rust evaluates a
/// struct expression's fields as written). Looking each column up by name
/// costs a scan of the column names per field: 0.1-0.2 ms more per history page.
fn call_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CallRow> {
    let mut next = 0..;
    let mut at = move || next.next().unwrap_or(usize::MAX);
    Ok(CallRow {
        call_id: r.get(at())?,
        seller_id: r.get(at())?,
        team: r.get(at())?,
        customer: r.get(at())?,
        started_at: from_millis(r.get(at())?),
        duration_s: r.get(at())?,
        direction: r.get(at())?,
        outcome: r.get(at())?,
        audio_uri: r.get(at())?,
        pipeline_version: r.get(at())?,
        asr_model: r.get(at())?,
        sentiment_model: r.get(at())?,
        kpi_version: r.get(at())?,
        seller_talk_s: r.get(at())?,
        customer_talk_s: r.get(at())?,
        talk_ratio: r.get(at())?,
        seller_wpm: r.get(at())?,
        customer_wpm: r.get(at())?,
        switches: r.get(at())?,
        switches_per_hour: r.get(at())?,
        avg_pause_s: r.get(at())?,
        longest_customer_monologue_s: r.get(at())?,
        longest_seller_monologue_s: r.get(at())?,
        interruptions: r.get(at())?,
        seller_questions: r.get(at())?,
        seller_turns: r.get(at())?,
        customer_turns: r.get(at())?,
        backchannels: r.get(at())?,
        customer_sentiment: r.get(at())?,
        customer_sentiment_score: r.get(at())?,
        positive_share: r.get(at())?,
        neutral_share: r.get(at())?,
        negative_share: r.get(at())?,
        mentions: r.get(at())?,
        action_items: r.get(at())?,
        questions: r.get(at())?,
        attribution_method: r.get(at())?,
        attribution_confidence: r.get(at())?,
        attribution_low_confidence: r.get(at())?,
        language: r.get(at())?,
        language_probability: r.get(at())?,
        transcript: r.get(at())?,
        signals: r.get(at())?,
        version: u64::try_from(r.get::<_, i64>(at())?).unwrap_or(0),
        is_deleted: 0,
        processed_at: from_millis(r.get(at())?),
    })
}

/// Reads a [`Comment`] from `SELECT` [`COMMENT_COLUMNS`].
fn comment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Comment> {
    Ok(Comment {
        comment_id: r.get(0)?,
        created_at: from_millis(r.get(7)?),
        edited_at: r.get::<_, Option<i64>>(11)?.map(from_millis),
        comment: NewComment {
            call_id: r.get(1)?,
            author: r.get(2)?,
            author_role: r.get(3)?,
            at_s: r.get(4)?,
            text: r.get(5)?,
            parent_id: r.get(6)?,
            turn: r.get::<_, Option<i64>>(8)?.and_then(|t| u32::try_from(t).ok()),
            start_s: r.get(9)?,
            end_s: r.get(10)?,
        },
    })
}

/// The columns [`comment_row`] reads (prefixed with `c.` where comments are joined).
const COMMENT_COLUMNS: &str = "comment_id, call_id, author, author_role, at_s, text, parent_id, created_at, turn, start_s, end_s, edited_at";

/// Per-seller, per-day sums, computed from `calls`.
pub(super) fn daily(
    conn: &Connection,
    sellers: &SellerFilter,
    range: DateRange,
) -> Result<Vec<DailyAggregate>> {
    let (filter, value) = match sellers {
        SellerFilter::Seller(s) => ("seller_id = ?1", s.clone()),
        SellerFilter::Team(t) => ("team = ?1", t.clone()),
        SellerFilter::All => ("?1 = ?1", String::new()),
    };
    let sql = format!(
        "SELECT seller_id, team, day, max(started_at), count(*), total(duration_s), total({ok} talk_ratio END), \
         count({ok} talk_ratio END), total({ok} seller_wpm END), count({ok} seller_wpm END), \
         total({ok} switches END), total({ok} avg_pause_s END), count({ok} avg_pause_s END), \
         total({ok} longest_customer_monologue_s END), total({ok} interruptions END), \
         total({ok} seller_questions END), total({ok} customer_sentiment = 'positive' END), \
         total({ok} customer_sentiment = 'neutral' END), total({ok} customer_sentiment = 'negative' END), \
         total(outcome = 'won'), total(outcome = 'lost'), total(attribution_low_confidence != 0) \
         FROM calls WHERE {filter} AND started_at >= ?2 AND started_at < ?3 \
         GROUP BY seller_id, day ORDER BY seller_id, day",
        // KPIs and sentiment only of calls whose attribution is trusted.
        ok = "CASE WHEN attribution_low_confidence = 0 THEN"
    );
    let (start, end) = (millis(range.start()), millis(range.end()));
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let count = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, f64>(i)? as u64) };
    let rows = stmt
        .query_map(params![value, start, end], |r| {
            let day: String = r.get(2)?;
            Ok(DailyAggregate {
                seller_id: r.get(0)?,
                team: r.get(1)?,
                day: NaiveDate::parse_from_str(&day, "%Y-%m-%d").unwrap_or_default(),
                calls: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                low_confidence_calls: count(r, 21)?,
                duration_s: r.get(5)?,
                talk_ratio_sum: r.get(6)?,
                talk_ratio_n: u64::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
                seller_wpm_sum: r.get(8)?,
                seller_wpm_n: u64::try_from(r.get::<_, i64>(9)?).unwrap_or(0),
                switches: count(r, 10)?,
                pause_sum: r.get(11)?,
                pause_n: u64::try_from(r.get::<_, i64>(12)?).unwrap_or(0),
                longest_customer_monologue_sum: r.get(13)?,
                interruptions: count(r, 14)?,
                seller_questions: count(r, 15)?,
                positive: count(r, 16)?,
                neutral: count(r, 17)?,
                negative: count(r, 18)?,
                won: count(r, 19)?,
                lost: count(r, 20)?,
            })
        })
        .map_err(db_err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
}

/// Sellers with calls, with their latest team.
pub(super) fn sellers(conn: &Connection) -> Result<Vec<SellerRef>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT seller_id, team, max(started_at), count(*) FROM calls GROUP BY seller_id ORDER BY seller_id",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |r| {
            Ok(SellerRef {
                seller_id: r.get(0)?,
                team: r.get(1)?,
                calls: u64::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
            })
        })
        .map_err(db_err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
}

/// One page of a seller's calls.
pub(super) fn call_history(conn: &Connection, q: &HistoryQuery) -> Result<Page<CallSummary>> {
    let mut filter = String::from("seller_id = ?1 AND started_at >= ?2 AND started_at < ?3");
    let mut args: Vec<Box<dyn rusqlite::ToSql>> = vec![
        Box::new(q.seller_id.clone()),
        Box::new(millis(q.range.start())),
        Box::new(millis(q.range.end())),
    ];
    if let Some(term) = &q.term {
        args.push(Box::new(term.clone()));
        filter.push_str(&format!(
            " AND call_id IN (SELECT call_id FROM mentions WHERE seller_id = ?1 AND term = ?{}",
            args.len()
        ));
        if let Some(role) = q.term_role {
            args.push(Box::new(role_str(role)));
            filter.push_str(&format!(" AND role = ?{}", args.len()));
        }
        filter.push(')');
    }
    if let Some(keyword) = &q.keyword {
        args.push(Box::new(keyword.clone()));
        filter.push_str(&format!(
            " AND call_id IN (SELECT call_id FROM customer_keywords WHERE seller_id = ?1 AND phrase = ?{})",
            args.len()
        ));
    }
    let (order, dir) = (q.sort.column(), q.direction());
    let size = q.page_size.clamp(1, 500);
    let total: i64 = conn
        .query_row(
            &format!("SELECT count(*) FROM calls WHERE {filter}"),
            rusqlite::params_from_iter(args.iter()),
            |r| r.get(0),
        )
        .map_err(db_err)?;
    let sql = format!(
        "SELECT {} FROM calls WHERE {filter} ORDER BY {order} IS NULL, {order} {dir}, call_id LIMIT {size} OFFSET {}",
        columns::select_list(Backend::Sqlite, true),
        u64::from(q.page) * u64::from(size)
    );
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), call_row).map_err(db_err)?;
    let items = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)?;
    Ok(Page { items: items.iter().map(CallRow::summary).collect(), total: u64::try_from(total).unwrap_or(0) })
}

/// One call with its transcript and signals.
pub(super) fn call(conn: &Connection, call_id: &str) -> Result<Option<CallDetail>> {
    let sql = format!("SELECT {} FROM calls WHERE call_id = ?", columns::select_list(Backend::Sqlite, false));
    let row = conn.query_row(&sql, [call_id], call_row).optional().map_err(db_err)?;
    Ok(row.map(|r| r.detail()))
}

/// Mentions per tracked term in a seller's calls, most mentioned first.
pub(super) fn mention_counts(conn: &Connection, seller: &str, range: DateRange) -> Result<Vec<TermCount>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT kind, term, count(*), total(role = 'customer'), count(DISTINCT call_id), \
             count(DISTINCT CASE WHEN role = 'customer' THEN call_id END) FROM mentions \
             WHERE seller_id = ? AND started_at >= ? AND started_at < ? \
             GROUP BY kind, term ORDER BY count(*) DESC, term",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![seller, millis(range.start()), millis(range.end())], |r| {
            Ok(TermCount {
                kind: parse_kind(&r.get::<_, String>(0)?),
                term: r.get(1)?,
                mentions: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                by_customer: r.get::<_, f64>(3)? as u64,
                calls: u64::try_from(r.get::<_, i64>(4)?).unwrap_or(0),
                customer_calls: u64::try_from(r.get::<_, i64>(5)?).unwrap_or(0),
            })
        })
        .map_err(db_err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
}

/// A seller's customer phrases, by phrase, with each one's document frequency
/// over the range (from the per-day counts of `keyword_daily`), and the number
/// of calls in the range.
pub(super) fn customer_keywords(conn: &Connection, seller: &str, range: DateRange) -> Result<KeywordFigures> {
    let (start, end) = (millis(range.start()), millis(range.end()));
    let range_calls: i64 = conn
        .query_row("SELECT count(*) FROM calls WHERE started_at >= ? AND started_at < ?", [start, end], |r| {
            r.get(0)
        })
        .map_err(db_err)?;
    let mut stmt = conn
        .prepare_cached(
            "SELECT k.phrase, total(k.count), count(DISTINCT k.call_id), \
             (SELECT total(d.calls) FROM keyword_daily d WHERE d.phrase = k.phrase \
              AND d.day >= ?4 AND d.day <= ?5) \
             FROM customer_keywords k WHERE k.seller_id = ?1 AND k.started_at >= ?2 AND k.started_at < ?3 \
             GROUP BY k.phrase ORDER BY k.phrase",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![seller, start, end, range.from.to_string(), range.to.to_string()], |r| {
            Ok(PhraseFigures {
                phrase: r.get(0)?,
                count: r.get::<_, f64>(1)? as u64,
                calls: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                df: r.get::<_, f64>(3)? as u64,
            })
        })
        .map_err(db_err)?;
    let phrases = rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)?;
    Ok(KeywordFigures { range_calls: u64::try_from(range_calls).unwrap_or(0), phrases })
}

/// The columns of `shares` that [`shares_from`] reads.
const SHARE_COLUMNS: &str =
    "share_id, recipient, call_id, seller_id, start_s, end_s, note, created_by, created_at, collection";

/// Rows of `shares` (ordered by share) grouped into shares, in first-seen order.
fn shares_from(
    stmt: &mut rusqlite::CachedStatement<'_>,
    params: impl rusqlite::Params,
) -> Result<Vec<Share>> {
    let rows = stmt
        .query_map(params, |r| {
            Ok(Share {
                share_id: r.get(0)?,
                created_at: from_millis(r.get(8)?),
                share: NewShare {
                    recipients: vec![r.get(1)?],
                    call_id: r.get(2)?,
                    seller_id: r.get(3)?,
                    start_s: r.get(4)?,
                    end_s: r.get(5)?,
                    note: r.get(6)?,
                    created_by: r.get(7)?,
                    collection: r.get(9)?,
                },
            })
        })
        .map_err(db_err)?;
    let mut out: Vec<Share> = Vec::new();
    for row in rows {
        let row = row.map_err(db_err)?;
        match out.last_mut() {
            Some(last) if last.share_id == row.share_id => last.share.recipients.extend(row.share.recipients),
            _ => out.push(row),
        }
    }
    Ok(out)
}

/// One share, if it exists.
pub(super) fn share(conn: &Connection, share_id: &str) -> Result<Option<Share>> {
    let mut stmt = conn
        .prepare_cached(&format!("SELECT {SHARE_COLUMNS} FROM shares WHERE share_id = ? ORDER BY recipient"))
        .map_err(db_err)?;
    Ok(shares_from(&mut stmt, [share_id])?.pop())
}

/// A call's shares, oldest first.
pub(super) fn call_shares(conn: &Connection, call_id: &str) -> Result<Vec<Share>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {SHARE_COLUMNS} FROM shares WHERE call_id = ? ORDER BY created_at, share_id, recipient"
        ))
        .map_err(db_err)?;
    shares_from(&mut stmt, [call_id])
}

/// The shares naming any of the recipients, newest first.
pub(super) fn shares_for(conn: &Connection, recipients: &[String]) -> Result<Vec<Share>> {
    if recipients.is_empty() {
        return Ok(Vec::new());
    }
    let list = vec!["?"; recipients.len()].join(", ");
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {SHARE_COLUMNS} FROM shares WHERE share_id IN \
             (SELECT share_id FROM shares WHERE recipient IN ({list})) \
             ORDER BY created_at DESC, share_id DESC, recipient"
        ))
        .map_err(db_err)?;
    shares_from(&mut stmt, rusqlite::params_from_iter(recipients.iter()))
}

/// One comment, if it exists.
pub(super) fn comment(conn: &Connection, comment_id: &str) -> Result<Option<Comment>> {
    let sql = format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE comment_id = ?");
    conn.query_row(&sql, [comment_id], comment_row).optional().map_err(db_err)
}

/// A call's comments, oldest first.
pub(super) fn comments(conn: &Connection, call_id: &str) -> Result<Vec<Comment>> {
    let sql =
        format!("SELECT {COMMENT_COLUMNS} FROM comments WHERE call_id = ? ORDER BY created_at, comment_id");
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt.query_map([call_id], comment_row).map_err(db_err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
}

/// The latest comments on a seller's calls of a range, newest first.
pub(super) fn seller_comments(
    conn: &Connection,
    seller: &str,
    range: DateRange,
    limit: usize,
) -> Result<Vec<Comment>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT c.comment_id, c.call_id, c.author, c.author_role, c.at_s, c.text, c.parent_id, c.created_at, \
             c.turn, c.start_s, c.end_s, c.edited_at \
             FROM comments c JOIN calls k ON k.call_id = c.call_id \
             WHERE k.seller_id = ? AND k.started_at >= ? AND k.started_at < ? \
             ORDER BY c.created_at DESC, c.comment_id DESC LIMIT ?",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(
            params![
                seller,
                millis(range.start()),
                millis(range.end()),
                i64::try_from(limit).unwrap_or(i64::MAX)
            ],
            comment_row,
        )
        .map_err(db_err)?;
    rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)
}

/// Rows a search reads at a time: candidates the phrase check drops are
/// made up for by reading on.
const SEARCH_PAGE: usize = 200;

/// The most scope tokens one search puts in its FTS5 query; a scope with
/// more (many sellers over many months) asks for the months' tokens instead.
const MAX_SCOPE_TOKENS: usize = 256;

/// The longest window (in days) whose lines of everyone's calls are asked
/// for by day; a longer one asks for its months.
const MAX_DAY_TOKENS: i64 = 62;

/// Utterances holding the phrase, newest first. The search reads the range
/// window by window, newest first ([`crate::search::Windows`]), and
/// stops once it has `limit` hits. In each window FTS5 finds the lines that
/// hold the phrase *and* one of the scope's tokens (migration
/// `009_search_scope`: seller and month, month, day, call), so only lines of the
/// scope and the window are looked up; the columns are then filtered exactly
/// and every text is checked by `locate` (see [`crate::search`]). A reprocess
/// replaces a call's utterances, so every row here is of the current version.
pub(super) fn search(conn: &Connection, q: &SearchQuery) -> Result<Vec<SearchHit>> {
    use rusqlite::types::Value;
    let phrase = crate::search::phrase_words(&q.phrase)?;
    let limit = q.limit.clamp(1, 500);
    let mut filter = String::from("utterance_search MATCH ? AND u.started_at >= ? AND u.started_at < ?");
    // The arguments after the three of the window.
    let mut args: Vec<Value> = Vec::new();
    // Sellers whose every line in scope may be found (`None`: everyone's),
    // and calls found whole or in part however the sellers are scoped.
    let (mut sellers, mut calls): (Option<Vec<&String>>, Vec<&String>) = (None, Vec::new());
    if let SearchScope::Only { sellers: only, shared } = &q.scope {
        let mut any = Vec::new();
        if !only.is_empty() {
            any.push(format!("u.seller_id IN ({})", vec!["?"; only.len()].join(", ")));
            args.extend(only.iter().map(|s| Value::Text(s.clone())));
        }
        for span in shared {
            args.push(Value::Text(span.call_id.clone()));
            match span.clip {
                None => any.push("u.call_id = ?".to_owned()),
                Some((start, end)) => {
                    any.push("(u.call_id = ? AND u.end_s > ? AND u.start_s < ?)".to_owned());
                    args.extend([Value::Real(start), Value::Real(end)]);
                }
            }
        }
        if any.is_empty() {
            return Ok(Vec::new());
        }
        filter.push_str(&format!(" AND ({})", any.join(" OR ")));
        sellers = Some(only.iter().collect());
        calls = shared.iter().map(|span| &span.call_id).collect();
    }
    if let Some(seller) = &q.seller {
        filter.push_str(" AND u.seller_id = ?");
        args.push(Value::Text(seller.clone()));
        sellers = Some(match sellers {
            Some(only) => only.into_iter().filter(|s| *s == seller).collect(),
            None => vec![seller],
        });
    }
    if let Some(role) = q.said_by {
        filter.push_str(" AND u.role = ?");
        args.push(Value::Text(role_str(role).to_owned()));
    }
    let sql = format!(
        "SELECT u.call_id, u.seller_id, u.started_at, u.turn, u.role, u.start_s, u.end_s, u.text \
         FROM utterance_search JOIN utterances u ON u.rowid = utterance_search.rowid WHERE {filter} \
         ORDER BY u.started_at DESC, u.call_id, u.turn LIMIT {SEARCH_PAGE} OFFSET ?"
    );
    let mut stmt = conn.prepare(&sql).map_err(db_err)?;
    let text = crate::search::fts_phrase(&phrase);
    let mut hits = Vec::new();
    let mut windows = crate::search::Windows::new(q.range);
    while let Some(window) = windows.next(hits.len(), limit) {
        let months = crate::search::months(&window);
        let mut tokens: Vec<String> = match &sellers {
            Some(sellers) if sellers.len() * months.len() + calls.len() <= MAX_SCOPE_TOKENS => {
                let seller_months = sellers.iter().flat_map(|s| {
                    let hex = crate::search::hex(s);
                    months.iter().map(move |m| format!("sm{hex}x{m}"))
                });
                seller_months.chain(calls.iter().map(|c| format!("c{}", crate::search::hex(c)))).collect()
            }
            // Everyone's lines: by day in a short window, else by month.
            _ if window.to - window.from < chrono::TimeDelta::days(MAX_DAY_TOKENS) => window
                .from
                .iter_days()
                .take_while(|d| *d <= window.to)
                .map(|d| d.format("d%Y%m%d").to_string())
                .collect(),
            _ => months.iter().map(|m| format!("m{m}")).collect(),
        };
        if tokens.is_empty() {
            break;
        }
        tokens.iter_mut().for_each(|t| *t = format!("\"{t}\""));
        let mut window_args = vec![
            Value::Text(format!("text : {text} AND scope : ({})", tokens.join(" OR "))),
            Value::Integer(millis(window.start())),
            Value::Integer(millis(window.end())),
        ];
        window_args.extend(args.iter().cloned());
        for page in 0.. {
            window_args.push(Value::Integer((page * SEARCH_PAGE) as i64));
            let rows = stmt
                .query_map(rusqlite::params_from_iter(window_args.iter()), |r| {
                    Ok(crate::search::Candidate {
                        call_id: r.get(0)?,
                        seller_id: r.get(1)?,
                        started_at: from_millis(r.get(2)?),
                        turn: u32::try_from(r.get::<_, i64>(3)?).unwrap_or(0),
                        role: r.get(4)?,
                        start_s: r.get(5)?,
                        end_s: r.get(6)?,
                        text: r.get(7)?,
                    })
                })
                .map_err(db_err)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_err)?;
            window_args.pop();
            let read = rows.len();
            hits.extend(rows.into_iter().filter_map(|c| c.hit(&phrase)));
            if hits.len() >= limit || read < SEARCH_PAGE {
                break;
            }
        }
        if hits.len() >= limit {
            break;
        }
    }
    hits.truncate(limit);
    Ok(hits)
}
