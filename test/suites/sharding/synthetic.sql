-- test/suites/sharding/synthetic.sql: a deterministic synthetic archive, the same rows on every
-- server that runs it (integer arithmetic only: no random(), no hashes, no time zone).
--   public.synthetic_posts(n) -> n posts: key, home, url, slug, title, summary, published_at,
--                                tags, authors, body_markdown, visibility
-- home is the post's first normalised tag ('' when it has none): the partition key of posts.
-- About 1 post in 50 is a draft, 1 in 997 is undated, 1 in 400 has no tags; tags are skewed
-- (a few carry many posts) and some are written with capitals or extra spaces, so that the
-- extension's normalisation is exercised on every server.
CREATE FUNCTION public.synthetic_posts(n integer)
    RETURNS TABLE (key text, home text, url text, slug text, title text, summary text,
                   published_at timestamptz, tags text[], authors text[], body_markdown text,
                   visibility archive.visibility)
    LANGUAGE sql IMMUTABLE
    AS $$
    WITH vocab AS (
        SELECT ARRAY['databases', 'go', 'testing', 'performance', 'security', 'concurrency',
                     'compilers', 'tooling', 'cloud', 'networking', 'storage', 'observability',
                     'generics', 'modules', 'web', 'design', 'community', 'releases', 'errors',
                     'memory', 'profiling', 'fuzzing', 'debugging', 'interfaces', 'packages',
                     'standard-library', 'garbage-collection', 'scheduling', 'embedded', 'wasm',
                     'api-design', 'documentation', 'education', 'events', 'hiring', 'research',
                     'data', 'machine-learning', 'accessibility', 'privacy'] AS tags,
               ARRAY['faster', 'builds', 'queries', 'safer', 'code', 'inside', 'runtime', 'notes',
                     'lessons', 'from', 'production', 'scaling', 'teams', 'better', 'tests',
                     'small', 'services', 'migrating', 'legacy', 'systems', 'designing', 'robust',
                     'pipelines', 'understanding', 'latency', 'budgets', 'measuring', 'what',
                     'matters', 'year', 'review', 'release', 'plans', 'toward', 'simpler',
                     'deployments', 'caching', 'strategies', 'debugging', 'races', 'profiles',
                     'guided', 'optimization', 'stories', 'users'] AS words
    ),
    posts AS (
        SELECT i,
               -- a multiplicative walk: h is spread over 0 .. 999999 whatever i is
               (i::bigint * 7919 + 104729) % 1000003 AS h,
               (i::bigint * 6007 + 31337) % 999983 AS g
        FROM generate_series(1, n) AS i
    ),
    shaped AS (
        SELECT p.i, p.h, p.g,
               CASE WHEN p.i % 400 = 0 THEN '{}'::text[]
                    ELSE ARRAY(
                        SELECT CASE WHEN p.i % 11 = 0 AND j = 1 THEN upper(v.tags[k]) || ' '
                                    ELSE v.tags[k] END
                        FROM generate_series(1, 1 + (p.g % 4)::int) AS j,
                             -- skewed: low tag numbers are far more frequent
                             LATERAL (SELECT 1 + ((((p.h * j + p.g * j * j) % 1000) ^ 2)::bigint
                                                  * array_length(v.tags, 1) / 1000000)::int AS k) AS s
                        ORDER BY j)
               END AS tags,
               v.words[1 + (p.h % 45)::int] || ' ' || v.words[1 + (p.g % 45)::int] || ' '
                   || v.words[1 + ((p.h / 45) % 45)::int]
                   || CASE WHEN p.i % 3 = 0 THEN ' ' || v.words[1 + ((p.g / 45) % 45)::int] ELSE '' END
                   AS title
        FROM posts AS p, vocab AS v
    )
    SELECT 'syn-' || s.i,
           coalesce((archive.normalize_tags(s.tags))[1], ''),
           'https://example.org/syn/' || s.i,
           'syn-' || s.i,
           initcap(s.title),
           'Synthetic post ' || s.i || ' of the sharding suite.',
           CASE WHEN s.i % 997 = 0 THEN NULL
                ELSE timestamptz '2005-01-01 00:00:00+00' + make_interval(secs => (s.h * 631)::float8) END,
           s.tags,
           ARRAY['author-' || (s.g % 17)],
           NULL,
           CASE WHEN s.i % 50 = 0 THEN 'draft' ELSE 'public' END::archive.visibility
    FROM shaped AS s
    $$;
