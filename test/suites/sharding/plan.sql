-- test/suites/sharding/plan.sql: helpers of the sharding suite on the coordinator (public schema).
--   plan_nodes(query, run)  every node of EXPLAIN (VERBOSE[, ANALYZE]) of the query, with what the
--                           checks read: node type, async, pushed relations, Remote SQL, planned
--                           rows and width, actual rows (per loop; every loop here is 1)
--   best_ms(query, runs)    the fastest of runs executions of the query, in milliseconds, with
--                           every column of every row turned into text (as a client would)
CREATE FUNCTION plan_nodes(query text, run boolean DEFAULT false)
    RETURNS TABLE (node text, async boolean, relations text, remote_sql text,
                   plan_rows float8, plan_width integer, actual_rows float8)
    LANGUAGE plpgsql
    AS $$
    DECLARE
        plan jsonb;
    BEGIN
        EXECUTE format('EXPLAIN (VERBOSE, FORMAT JSON%s) %s',
                       CASE WHEN run THEN ', ANALYZE' ELSE '' END, query) INTO plan;
        RETURN QUERY
        SELECT n ->> 'Node Type', (n ->> 'Async Capable')::boolean, n ->> 'Relations',
               n ->> 'Remote SQL', (n ->> 'Plan Rows')::float8, (n ->> 'Plan Width')::integer,
               (n ->> 'Actual Rows')::float8
        FROM jsonb_path_query(plan, 'strict $.**') AS n
        WHERE jsonb_typeof(n) = 'object' AND n ? 'Node Type';
    END
    $$;

CREATE FUNCTION best_ms(query text, runs integer DEFAULT 3) RETURNS numeric
    LANGUAGE plpgsql
    AS $$
    DECLARE
        started timestamptz;
        best interval;
        bytes bigint;
    BEGIN
        FOR i IN 1 .. runs LOOP
            started := clock_timestamp();
            EXECUTE format('SELECT sum(octet_length(q::text)) FROM (%s) AS q', query) INTO bytes;
            best := least(best, clock_timestamp() - started);
        END LOOP;
        RETURN round(extract(epoch FROM best) * 1000, 1);
    END
    $$;
