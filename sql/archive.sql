/*
 * archive.sql: the SQL surface of the archive extension (the source of the
 * versioned install script archive--<version>.sql, which `make` copies from it).
 *
 * Every object is created in the extension's fixed schema, archive; every
 * name is schema-qualified and every SQL function sets its search_path.
 */

\echo Use "CREATE EXTENSION archive" to load this file. \quit

-- ---------------------------------------------------------------------------
-- Text normalisation
-- ---------------------------------------------------------------------------

CREATE FUNCTION archive.normalize_tag(tag text) RETURNS text
    AS 'MODULE_PATHNAME', 'archive_normalize_tag'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.normalize_tag(text) IS
    'A tag as every comparison of the extension sees it: trimmed, inner white space folded to one space, case folded; NULL when blank';

-- ---------------------------------------------------------------------------
-- Title filler words: headline filler that is never a motif.  Editors add
-- words with INSERT; rows they add are kept by pg_dump.
-- ---------------------------------------------------------------------------

CREATE TABLE archive.filler_words (
    word text PRIMARY KEY CHECK (word = lower(btrim(word)) AND word <> ''),
    shipped boolean NOT NULL DEFAULT false
);
COMMENT ON TABLE archive.filler_words IS
    'Headline filler words that are never title motifs (lower case); shipped rows come with the extension, others are the site''s own';
GRANT SELECT ON archive.filler_words TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('archive.filler_words', 'WHERE NOT shipped');

INSERT INTO archive.filler_words (word, shipped)
SELECT w, true FROM pg_catalog.unnest(ARRAY[
    'actually', 'really', 'just', 'here''s', 'heres', 'here', 'things', 'thing',
    'stuff', 'simply', 'basically', 'literally', 'totally', 'truly', 'quite',
    'very', 'pretty', 'lot', 'lots', 'bit', 'way', 'ways', 'kind', 'sort',
    'what''s', 'that''s', 'there''s', 'it''s', 'let''s', 'we''re', 'you''re',
    'we''ve', 'you''ve', 'i''m', 'don''t', 'doesn''t', 'isn''t', 'can''t',
    'won''t', 'get', 'gets', 'got', 'make', 'makes', 'made', 'use', 'using',
    'used', 'new', 'now', 'also', 'still', 'even', 'ever', 'every', 'many',
    'much', 'one', 'two', 'three', 'first', 'part', 'via', 'vs', 'etc',
    'today', 'introducing', 'announcing', 'update', 'updates'
]) AS w;

-- ---------------------------------------------------------------------------
-- archive.ranked_term: one entry of a ranked list of tags or motifs
-- ---------------------------------------------------------------------------

CREATE TYPE archive.ranked_term AS (
    term text,
    count bigint,
    share double precision
);
COMMENT ON TYPE archive.ranked_term IS
    'A ranked tag or title motif: the term (for motifs its most frequent word), the rows that carry it, and count / rows of the group';

-- ---------------------------------------------------------------------------
-- archive.termcounts: a mergeable summary of tag or motif counts
-- ---------------------------------------------------------------------------

CREATE TYPE archive.termcounts;

CREATE FUNCTION archive.termcounts_in(cstring) RETURNS archive.termcounts
    AS 'MODULE_PATHNAME', 'archive_termcounts_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION archive.termcounts_out(archive.termcounts) RETURNS cstring
    AS 'MODULE_PATHNAME', 'archive_termcounts_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION archive.termcounts_recv(internal) RETURNS archive.termcounts
    AS 'MODULE_PATHNAME', 'archive_termcounts_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION archive.termcounts_send(archive.termcounts) RETURNS bytea
    AS 'MODULE_PATHNAME', 'archive_termcounts_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE archive.termcounts (
    INPUT = archive.termcounts_in,
    OUTPUT = archive.termcounts_out,
    RECEIVE = archive.termcounts_recv,
    SEND = archive.termcounts_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE archive.termcounts IS
    'Mergeable summary of how many rows carried each tag or title motif (Misra-Gries bounded; exact while max_error is 0)';
COMMENT ON FUNCTION archive.termcounts_in(cstring) IS 'Input of archive.termcounts from its JSON text form';
COMMENT ON FUNCTION archive.termcounts_out(archive.termcounts) IS 'Output of archive.termcounts as JSON text';
COMMENT ON FUNCTION archive.termcounts_recv(internal) IS 'Binary input of archive.termcounts, checked in full';
COMMENT ON FUNCTION archive.termcounts_send(archive.termcounts) IS 'Binary output of archive.termcounts';

CREATE FUNCTION archive.rows(archive.termcounts) RETURNS bigint
    AS 'MODULE_PATHNAME', 'archive_termcounts_rows'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.rows(archive.termcounts) IS
    'Input rows (posts or titles) the summary has seen, with or without terms';

CREATE FUNCTION archive.max_error(archive.termcounts) RETURNS bigint
    AS 'MODULE_PATHNAME', 'archive_termcounts_error'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.max_error(archive.termcounts) IS
    'Largest possible undercount of any count in the summary; 0 means every count is exact';

CREATE FUNCTION archive.top_terms(summary archive.termcounts, k integer,
                                  exclude text[] DEFAULT '{}')
    RETURNS archive.ranked_term[]
    AS 'MODULE_PATHNAME', 'archive_top_terms'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.top_terms(archive.termcounts, integer, text[]) IS
    'The k strongest terms of a summary, strongest first, leaving out the excluded tags or words';

CREATE FUNCTION archive.terms(summary archive.termcounts,
                              OUT term text, OUT stem text, OUT count bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'archive_terms'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.terms(archive.termcounts) IS
    'Every term kept in a summary with its stem (tags: the tag) and count, strongest first';

-- Aggregate support shared by every term aggregate.
CREATE FUNCTION archive.termagg_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_termagg_combine'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.termagg_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'archive_termagg_serialize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION archive.termagg_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_termagg_deserialize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION archive.termagg_summary_final(internal) RETURNS archive.termcounts
    AS 'MODULE_PATHNAME', 'archive_termagg_summary_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.termagg_ranked_final(internal) RETURNS archive.ranked_term[]
    AS 'MODULE_PATHNAME', 'archive_termagg_ranked_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.termagg_combine(internal, internal) IS 'Combine function of the term aggregates';
COMMENT ON FUNCTION archive.termagg_serialize(internal) IS 'Serialize function of the term aggregates';
COMMENT ON FUNCTION archive.termagg_deserialize(bytea, internal) IS 'Deserialize function of the term aggregates';
COMMENT ON FUNCTION archive.termagg_summary_final(internal) IS 'Final function of the term summary aggregates';
COMMENT ON FUNCTION archive.termagg_ranked_final(internal) IS 'Final function of the term ranking aggregates';

-- Tags.
CREATE FUNCTION archive.tags_trans(internal, text[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_tags_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.tags_trans(internal, text[], integer, text[]) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_tags_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.tags_trans(internal, text[]) IS 'Transition function of archive.tag_counts_agg';
COMMENT ON FUNCTION archive.tags_trans(internal, text[], integer, text[]) IS 'Transition function of archive.tag_adjacency';

CREATE AGGREGATE archive.tag_counts_agg(tags text[]) (
    SFUNC = archive.tags_trans,
    STYPE = internal,
    SSPACE = 4096,
    FINALFUNC = archive.termagg_summary_final,
    COMBINEFUNC = archive.termagg_combine,
    SERIALFUNC = archive.termagg_serialize,
    DESERIALFUNC = archive.termagg_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.tag_counts_agg(text[]) IS
    'Summary of how many posts carry each (normalised) tag; merge summaries with archive.termcounts_union_agg';

CREATE AGGREGATE archive.tag_adjacency(tags text[], k integer, own_tags text[]) (
    SFUNC = archive.tags_trans,
    STYPE = internal,
    SSPACE = 4096,
    FINALFUNC = archive.termagg_ranked_final,
    COMBINEFUNC = archive.termagg_combine,
    SERIALFUNC = archive.termagg_serialize,
    DESERIALFUNC = archive.termagg_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.tag_adjacency(text[], integer, text[]) IS
    'The k tags carried by most posts of the group, leaving out the group''s own tags, strongest first';

-- Title motifs.
CREATE FUNCTION archive.title_terms_trans(internal, text) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_title_terms_trans'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION archive.title_terms_trans(internal, text, regconfig) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_title_terms_trans'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION archive.title_motifs_trans(internal, text, integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_title_motifs_trans'
    LANGUAGE C STABLE PARALLEL SAFE;
CREATE FUNCTION archive.title_motifs_trans(internal, text, integer, regconfig) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_title_motifs_trans'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.title_terms_trans(internal, text) IS 'Transition function of archive.title_terms_agg';
COMMENT ON FUNCTION archive.title_terms_trans(internal, text, regconfig) IS 'Transition function of archive.title_terms_agg';
COMMENT ON FUNCTION archive.title_motifs_trans(internal, text, integer) IS 'Transition function of archive.title_motifs';
COMMENT ON FUNCTION archive.title_motifs_trans(internal, text, integer, regconfig) IS 'Transition function of archive.title_motifs';

CREATE AGGREGATE archive.title_terms_agg(title text) (
    SFUNC = archive.title_terms_trans, STYPE = internal, SSPACE = 4096,
    FINALFUNC = archive.termagg_summary_final, COMBINEFUNC = archive.termagg_combine,
    SERIALFUNC = archive.termagg_serialize, DESERIALFUNC = archive.termagg_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE archive.title_terms_agg(title text, config regconfig) (
    SFUNC = archive.title_terms_trans, STYPE = internal, SSPACE = 4096,
    FINALFUNC = archive.termagg_summary_final, COMBINEFUNC = archive.termagg_combine,
    SERIALFUNC = archive.termagg_serialize, DESERIALFUNC = archive.termagg_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE archive.title_motifs(title text, k integer) (
    SFUNC = archive.title_motifs_trans, STYPE = internal, SSPACE = 4096,
    FINALFUNC = archive.termagg_ranked_final, COMBINEFUNC = archive.termagg_combine,
    SERIALFUNC = archive.termagg_serialize, DESERIALFUNC = archive.termagg_deserialize,
    PARALLEL = SAFE
);
CREATE AGGREGATE archive.title_motifs(title text, k integer, config regconfig) (
    SFUNC = archive.title_motifs_trans, STYPE = internal, SSPACE = 4096,
    FINALFUNC = archive.termagg_ranked_final, COMBINEFUNC = archive.termagg_combine,
    SERIALFUNC = archive.termagg_serialize, DESERIALFUNC = archive.termagg_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.title_terms_agg(text) IS
    'Summary of the title words (stem and surface word) of a group, each stem once per title, english configuration';
COMMENT ON AGGREGATE archive.title_terms_agg(text, regconfig) IS
    'Summary of the title words (stem and surface word) of a group, each stem once per title, stemmed through the given configuration';
COMMENT ON AGGREGATE archive.title_motifs(text, integer) IS
    'The k recurring words of the group''s titles (english configuration), each shown as its most frequent form, strongest first';
COMMENT ON AGGREGATE archive.title_motifs(text, integer, regconfig) IS
    'The k recurring words of the group''s titles, stemmed through the given configuration, strongest first';

-- Union of stored summaries.
CREATE FUNCTION archive.termcounts_union_trans(internal, archive.termcounts) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_termcounts_union_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.termcounts_union_trans(internal, archive.termcounts) IS
    'Transition function of archive.termcounts_union_agg';

CREATE AGGREGATE archive.termcounts_union_agg(archive.termcounts) (
    SFUNC = archive.termcounts_union_trans,
    STYPE = internal,
    SSPACE = 4096,
    FINALFUNC = archive.termagg_summary_final,
    COMBINEFUNC = archive.termagg_combine,
    SERIALFUNC = archive.termagg_serialize,
    DESERIALFUNC = archive.termagg_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.termcounts_union_agg(archive.termcounts) IS
    'Merge of tag or motif summaries (per partition, month or shard) into one';

-- ---------------------------------------------------------------------------
-- archive.span: a mergeable topic span
-- ---------------------------------------------------------------------------

CREATE TYPE archive.span;

CREATE FUNCTION archive.span_in(cstring) RETURNS archive.span
    AS 'MODULE_PATHNAME', 'archive_span_in'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION archive.span_out(archive.span) RETURNS cstring
    AS 'MODULE_PATHNAME', 'archive_span_out'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION archive.span_recv(internal) RETURNS archive.span
    AS 'MODULE_PATHNAME', 'archive_span_recv'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION archive.span_send(archive.span) RETURNS bytea
    AS 'MODULE_PATHNAME', 'archive_span_send'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE archive.span (
    INPUT = archive.span_in,
    OUTPUT = archive.span_out,
    RECEIVE = archive.span_recv,
    SEND = archive.span_send,
    INTERNALLENGTH = VARIABLE,
    ALIGNMENT = int4,
    STORAGE = extended
);
COMMENT ON TYPE archive.span IS
    'Mergeable topic span: posts, undated posts, first and last publication, posts per calendar month (UTC)';
COMMENT ON FUNCTION archive.span_in(cstring) IS 'Input of archive.span from its JSON text form';
COMMENT ON FUNCTION archive.span_out(archive.span) IS 'Output of archive.span as JSON text';
COMMENT ON FUNCTION archive.span_recv(internal) IS 'Binary input of archive.span, checked in full';
COMMENT ON FUNCTION archive.span_send(archive.span) IS 'Binary output of archive.span';

CREATE FUNCTION archive.span_trans(internal, timestamptz) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_span_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.span_union_trans(internal, archive.span) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_span_union_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.span_combine(internal, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_span_combine'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.span_serialize(internal) RETURNS bytea
    AS 'MODULE_PATHNAME', 'archive_span_serialize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION archive.span_deserialize(bytea, internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_span_deserialize'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION archive.span_final(internal) RETURNS archive.span
    AS 'MODULE_PATHNAME', 'archive_span_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.span_trans(internal, timestamptz) IS 'Transition function of archive.topic_span';
COMMENT ON FUNCTION archive.span_union_trans(internal, archive.span) IS 'Transition function of archive.span_union_agg';
COMMENT ON FUNCTION archive.span_combine(internal, internal) IS 'Combine function of the span aggregates';
COMMENT ON FUNCTION archive.span_serialize(internal) IS 'Serialize function of the span aggregates';
COMMENT ON FUNCTION archive.span_deserialize(bytea, internal) IS 'Deserialize function of the span aggregates';
COMMENT ON FUNCTION archive.span_final(internal) IS 'Final function of the span aggregates';

CREATE AGGREGATE archive.topic_span(published_at timestamptz) (
    SFUNC = archive.span_trans,
    STYPE = internal,
    SSPACE = 512,
    FINALFUNC = archive.span_final,
    COMBINEFUNC = archive.span_combine,
    SERIALFUNC = archive.span_serialize,
    DESERIALFUNC = archive.span_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.topic_span(timestamptz) IS
    'Span of a group of posts: count, undated count, first and last publication, posts per month';

CREATE AGGREGATE archive.span_union_agg(archive.span) (
    SFUNC = archive.span_union_trans,
    STYPE = internal,
    SSPACE = 512,
    FINALFUNC = archive.span_final,
    COMBINEFUNC = archive.span_combine,
    SERIALFUNC = archive.span_serialize,
    DESERIALFUNC = archive.span_deserialize,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.span_union_agg(archive.span) IS
    'Merge of spans (per partition, month or shard) into one';

CREATE FUNCTION archive.posts(archive.span) RETURNS bigint
    AS 'MODULE_PATHNAME', 'archive_span_posts'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.posts(archive.span) IS 'Posts in the span, dated or not';

CREATE FUNCTION archive.undated_posts(archive.span) RETURNS bigint
    AS 'MODULE_PATHNAME', 'archive_span_undated'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.undated_posts(archive.span) IS 'Posts in the span with no publication time';

CREATE FUNCTION archive.first_published(archive.span) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'archive_span_first'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.first_published(archive.span) IS 'Earliest publication in the span; NULL when no post is dated';

CREATE FUNCTION archive.last_published(archive.span) RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'archive_span_last'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.last_published(archive.span) IS 'Latest publication in the span; NULL when no post is dated';

CREATE FUNCTION archive.posts_per_month(span archive.span, OUT month date, OUT posts bigint)
    RETURNS SETOF record
    AS 'MODULE_PATHNAME', 'archive_span_months'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.posts_per_month(archive.span) IS
    'Each calendar month (UTC) of the span that has posts, ascending, with its post count';
