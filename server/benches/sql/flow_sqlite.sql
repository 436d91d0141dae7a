-- The flow report of one scope and period (see engine/src/instant.rs for the one definition of every
-- figure), answered by SQLite over the store's own tables (`cases`, `case_events`, as `cockpit.db`
-- holds them; the event statements need only a case's grid, and read it from `case_facts`, the part
-- of the `cases` view that holds it: a join of three tables leads SQLite, which keeps no statistics,
-- to read every event first). The bench substitutes the parameters as literals:
--   {lo}, {hi}          the scope: grid codes in [lo, hi) (lo: the prefix every grid of the scope has)
--   {child_len}         length of the child regions' codes (0 for a grid: no breakdown by area)
--   {f}, {t}            the period [f, t) in Unix ms, seen at t
--   {pf}, {pt}          the period before (环比), {yf}, {yt} the same period a year earlier (同比)
--   {pc}, {yc}          compared only when the first report is earlier (the end of the compared period's first day)
--   {join}              how the event statements meet the cases: `CROSS JOIN` for the city (SQLite then reads
--                       the events first and looks each case up: 3× faster than a million case lookups
--                       into the events), `JOIN` below it (the planner's choice: the scope's cases by
--                       `cases_by_grid`, then their events). The store keeps no statistics (no ANALYZE),
--                       so SQLite cannot tell a city from a grid by itself.
-- A case is closed at `closed_at` (the time of its last source event when that event closed it; the
-- bench checks the column against the events before it runs). Every statement returns rows of
-- (part, key, values…).
--
-- 1. Figures of the period, the period before and the year before; breakdowns by child region,
--    category, source and department; the backlog by age at t; whether anything is stored before yt.
WITH ev AS (
    SELECT e.feed, e.case_id,
        COUNT(*) FILTER (WHERE e.origin = 'desk' AND e.action = 'supervise' AND e.at >= {f} AND e.at < {t}) AS sup,
        COUNT(*) FILTER (WHERE e.origin = 'desk' AND e.action = 'escalate' AND e.at >= {f} AND e.at < {t}) AS esc,
        COUNT(*) FILTER (WHERE e.origin = 'feed' AND e.action = 'return' AND e.at >= {f} AND e.at < {t}) AS ret,
        COUNT(*) FILTER (WHERE e.origin = 'desk' AND e.action = 'supervise' AND e.at >= {pf} AND e.at < {pt}) AS sup_p,
        COUNT(*) FILTER (WHERE e.origin = 'desk' AND e.action = 'escalate' AND e.at >= {pf} AND e.at < {pt}) AS esc_p,
        COUNT(*) FILTER (WHERE e.origin = 'feed' AND e.action = 'return' AND e.at >= {pf} AND e.at < {pt}) AS ret_p,
        COUNT(*) FILTER (WHERE e.origin = 'desk' AND e.action = 'supervise' AND e.at >= {yf} AND e.at < {yt}) AS sup_y,
        COUNT(*) FILTER (WHERE e.origin = 'desk' AND e.action = 'escalate' AND e.at >= {yf} AND e.at < {yt}) AS esc_y,
        COUNT(*) FILTER (WHERE e.origin = 'feed' AND e.action = 'return' AND e.at >= {yf} AND e.at < {yt}) AS ret_y
    FROM case_events e {join} case_facts c ON c.feed = e.feed AND c.case_id = e.case_id
    WHERE e.action IN ('supervise', 'escalate', 'return') AND c.grid >= {lo} AND c.grid < {hi}
      AND ((e.at >= {f} AND e.at < {t}) OR (e.at >= {pf} AND e.at < {pt}) OR (e.at >= {yf} AND e.at < {yt}))
    GROUP BY e.feed, e.case_id
),
k AS (
    SELECT c.category, c.source, COALESCE(c.department, '') AS dept, substr(c.grid, 1, {child_len}) AS child,
           c.reported_at AS r, c.deadline AS d, c.closed_at AS x,
           COALESCE(ev.sup, 0) AS sup, COALESCE(ev.esc, 0) AS esc, COALESCE(ev.ret, 0) AS ret,
           COALESCE(ev.sup_p, 0) AS sup_p, COALESCE(ev.esc_p, 0) AS esc_p, COALESCE(ev.ret_p, 0) AS ret_p,
           COALESCE(ev.sup_y, 0) AS sup_y, COALESCE(ev.esc_y, 0) AS esc_y, COALESCE(ev.ret_y, 0) AS ret_y
    FROM cases c LEFT JOIN ev ON ev.feed = c.feed AND ev.case_id = c.case_id
    WHERE c.grid >= {lo} AND c.grid < {hi}
),
g AS (
    SELECT category, source, dept, child,
        COUNT(*) FILTER (WHERE r >= {f} AND r < {t}) AS rep,
        COUNT(*) FILTER (WHERE x >= {f} AND x < {t}) AS clo,
        COUNT(*) FILTER (WHERE d >= {f} AND d < {t}) AS due,
        COUNT(*) FILTER (WHERE d >= {f} AND d < {t} AND x <= d) AS ont,
        COUNT(*) FILTER (WHERE d >= {f} AND x > d AND x < {t}) AS lat,
        COUNT(*) FILTER (WHERE r < {t} AND (x IS NULL OR x >= {t})) AS opn,
        COUNT(*) FILTER (WHERE r < {t} AND (x IS NULL OR x >= {t}) AND d < {t}) AS ovd,
        SUM(sup) AS sup, SUM(esc) AS esc, SUM(ret) AS ret,
        COUNT(*) FILTER (WHERE r >= {pf} AND r < {pt}) AS rep_p,
        COUNT(*) FILTER (WHERE x >= {pf} AND x < {pt}) AS clo_p,
        COUNT(*) FILTER (WHERE d >= {pf} AND d < {pt}) AS due_p,
        COUNT(*) FILTER (WHERE d >= {pf} AND d < {pt} AND x <= d) AS ont_p,
        COUNT(*) FILTER (WHERE d >= {pf} AND x > d AND x < {pt}) AS lat_p,
        COUNT(*) FILTER (WHERE r < {pt} AND (x IS NULL OR x >= {pt})) AS opn_p,
        COUNT(*) FILTER (WHERE r < {pt} AND (x IS NULL OR x >= {pt}) AND d < {pt}) AS ovd_p,
        SUM(sup_p) AS sup_p, SUM(esc_p) AS esc_p, SUM(ret_p) AS ret_p,
        COUNT(*) FILTER (WHERE r >= {yf} AND r < {yt}) AS rep_y,
        COUNT(*) FILTER (WHERE x >= {yf} AND x < {yt}) AS clo_y,
        COUNT(*) FILTER (WHERE d >= {yf} AND d < {yt}) AS due_y,
        COUNT(*) FILTER (WHERE d >= {yf} AND d < {yt} AND x <= d) AS ont_y,
        COUNT(*) FILTER (WHERE d >= {yf} AND x > d AND x < {yt}) AS lat_y,
        COUNT(*) FILTER (WHERE r < {yt} AND (x IS NULL OR x >= {yt})) AS opn_y,
        COUNT(*) FILTER (WHERE r < {yt} AND (x IS NULL OR x >= {yt}) AND d < {yt}) AS ovd_y,
        SUM(sup_y) AS sup_y, SUM(esc_y) AS esc_y, SUM(ret_y) AS ret_y,
        COUNT(*) FILTER (WHERE r < {t} AND (x IS NULL OR x >= {t}) AND r >= {t} - 86400000) AS b0,
        COUNT(*) FILTER (WHERE (x IS NULL OR x >= {t}) AND r < {t} - 86400000 AND r >= {t} - 259200000) AS b1,
        COUNT(*) FILTER (WHERE (x IS NULL OR x >= {t}) AND r < {t} - 259200000 AND r >= {t} - 604800000) AS b2,
        COUNT(*) FILTER (WHERE (x IS NULL OR x >= {t}) AND r < {t} - 604800000 AND r >= {t} - 1209600000) AS b3,
        COUNT(*) FILTER (WHERE (x IS NULL OR x >= {t}) AND r < {t} - 1209600000) AS b4
    FROM k GROUP BY category, source, dept, child
)
SELECT 'main' AS part, '' AS key, SUM(rep), SUM(clo), SUM(due), SUM(ont), SUM(lat), SUM(opn), SUM(ovd), SUM(sup), SUM(esc), SUM(ret) FROM g
UNION ALL
SELECT 'prev', '', SUM(rep_p), SUM(clo_p), SUM(due_p), SUM(ont_p), SUM(lat_p), SUM(opn_p), SUM(ovd_p), SUM(sup_p), SUM(esc_p), SUM(ret_p) FROM g
UNION ALL
SELECT 'year', '', SUM(rep_y), SUM(clo_y), SUM(due_y), SUM(ont_y), SUM(lat_y), SUM(opn_y), SUM(ovd_y), SUM(sup_y), SUM(esc_y), SUM(ret_y) FROM g
UNION ALL
SELECT 'child', child, SUM(rep), SUM(clo), SUM(due), SUM(ont), SUM(lat), SUM(opn), SUM(ovd), SUM(sup), SUM(esc), SUM(ret) FROM g WHERE {child_len} > 0 GROUP BY child
UNION ALL
SELECT 'category', category, SUM(rep), SUM(clo), SUM(due), SUM(ont), SUM(lat), SUM(opn), SUM(ovd), SUM(sup), SUM(esc), SUM(ret) FROM g GROUP BY category
UNION ALL
SELECT 'source', source, SUM(rep), SUM(clo), SUM(due), SUM(ont), SUM(lat), SUM(opn), SUM(ovd), SUM(sup), SUM(esc), SUM(ret) FROM g GROUP BY source
UNION ALL
SELECT 'department', dept, SUM(rep), SUM(clo), SUM(due), SUM(ont), SUM(lat), SUM(opn), SUM(ovd), SUM(sup), SUM(esc), SUM(ret) FROM g GROUP BY dept
UNION ALL
SELECT 'backlog', '', SUM(b0), SUM(b1), SUM(b2), SUM(b3), SUM(b4), 0, 0, 0, 0, 0 FROM g
UNION ALL
SELECT 'prev_flag', '', (SELECT MIN(reported_at) FROM case_facts) < {pc}, 0, 0, 0, 0, 0, 0, 0, 0, 0
UNION ALL
SELECT 'year_flag', '', (SELECT MIN(reported_at) FROM case_facts) < {yc}, 0, 0, 0, 0, 0, 0, 0, 0, 0;

-- 2. Transitions (Sankey links) in the period: a source event that changes the status, the source's
--    events read in sequence order; the stay is from the event that entered the status left. Then the
--    stage durations by status left: count, median and 90th percentile (the value at rank ⌈p·n⌉).
WITH touched AS (
    SELECT DISTINCT e.feed, e.case_id
    FROM case_events e {join} case_facts c ON c.feed = e.feed AND c.case_id = e.case_id
    WHERE e.origin = 'feed' AND e.at >= {f} AND e.at < {t} AND c.grid >= {lo} AND c.grid < {hi}
),
fe AS (
    SELECT e.feed, e.case_id, e.seq, e.status, e.at,
           LAG(e.status) OVER (PARTITION BY e.feed, e.case_id ORDER BY e.seq) AS before
    FROM case_events e JOIN touched USING (feed, case_id)
    WHERE e.origin = 'feed'
),
runs AS (
    SELECT status, at,
           LAG(status) OVER (PARTITION BY feed, case_id ORDER BY seq) AS src,
           LAG(at) OVER (PARTITION BY feed, case_id ORDER BY seq) AS since
    FROM fe WHERE before IS NULL OR before <> status
),
l AS (
    SELECT src, status AS dst, MAX(at - since, 0) AS stay FROM runs
    WHERE src IS NOT NULL AND at >= {f} AND at < {t}
),
ranked AS (
    SELECT src, stay, ROW_NUMBER() OVER (PARTITION BY src ORDER BY stay) AS rn, COUNT(*) OVER (PARTITION BY src) AS n FROM l
)
SELECT 'link' AS part, src || '>' || dst AS key, COUNT(*), 0, 0 FROM l GROUP BY src, dst
UNION ALL
SELECT 'stage', src, MAX(n), MAX(CASE WHEN rn = (n + 1) / 2 THEN stay END), MAX(CASE WHEN rn = (9 * n + 9) / 10 THEN stay END)
FROM ranked GROUP BY src;

-- 3. Mediation attempts in the period by tier, and how many settled.
SELECT 'mediation' AS part, e.tier AS key, COUNT(*), COUNT(*) FILTER (WHERE e.outcome = 'settled')
FROM case_events e {join} case_facts c ON c.feed = e.feed AND c.case_id = e.case_id
WHERE e.origin = 'feed' AND e.action = 'mediate' AND e.tier IS NOT NULL AND e.at >= {f} AND e.at < {t}
  AND c.grid >= {lo} AND c.grid < {hi}
GROUP BY e.tier;
