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

CREATE FUNCTION archive.settings() RETURNS jsonb
    AS 'MODULE_PATHNAME', 'archive_settings'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.settings() IS 'The archive.* settings in force, as jsonb';

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
COMMENT ON COLUMN archive.filler_words.word IS 'A filler word, lower case';
COMMENT ON COLUMN archive.filler_words.shipped IS 'True for the words that come with the extension (not dumped); false for the site''s own';
GRANT SELECT ON archive.filler_words TO PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('archive.filler_words', 'WHERE NOT shipped');

INSERT INTO archive.filler_words (word, shipped)
SELECT w, true FROM pg_catalog.unnest(ARRAY[
    'actually', 'really', 'just', 'another', 'back', 'enough', 'without', 'within',
    'across', 'behind', 'beyond', 'around', 'toward', 'towards', 'among', 'upon',
    'despite', 'versus', 'along', 'inside', 'outside', 'next', 'last', 'based', 'here''s', 'heres', 'here', 'things', 'thing',
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
-- postgres_fdw ships an aggregate to a shard only if its result type, too, is a
-- member of an extension named in the server's "extensions" option; the array
-- type that CREATE TYPE makes is not one by itself (doc/sharding.md).
ALTER EXTENSION archive ADD TYPE archive.ranked_term[];
COMMENT ON TYPE archive.ranked_term[] IS 'Array of archive.ranked_term: a ranked list, strongest first';
COMMENT ON COLUMN archive.ranked_term.term IS 'The tag, or for a title motif the most frequent word of its stem';
COMMENT ON COLUMN archive.ranked_term.count IS 'Rows of the group (posts or titles) that carry it';
COMMENT ON COLUMN archive.ranked_term.share IS 'count divided by the rows of the group';

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

CREATE FUNCTION archive.termcounts_subtract(summary archive.termcounts, removed archive.termcounts)
    RETURNS archive.termcounts
    AS 'MODULE_PATHNAME', 'archive_termcounts_subtract'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.termcounts_subtract(archive.termcounts, archive.termcounts) IS
    'The summary without the rows that removed summarises (the inverse of a union); NULL unless both are exact (max_error 0) and removed is part of summary';

CREATE FUNCTION archive.termcounts_union(a archive.termcounts, b archive.termcounts)
    RETURNS archive.termcounts
    AS 'MODULE_PATHNAME', 'archive_termcounts_union'
    LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.termcounts_union(archive.termcounts, archive.termcounts) IS
    'The summary of the rows of both summaries, as archive.termcounts_union_agg gives it over a then b; a NULL one is left out, NULL when both are';

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

-- ===========================================================================
-- Rendering: Markdown to HTML, and topic pages as cmark node trees
-- ===========================================================================

-- ---------------------------------------------------------------------------
-- Markdown and topic pages (cmark)
-- ---------------------------------------------------------------------------

CREATE FUNCTION archive.markdown_to_html(markdown text) RETURNS text
    AS 'MODULE_PATHNAME', 'archive_markdown_to_html'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.markdown_to_html(text) IS
    'CommonMark as HTML in cmark''s safe mode (raw HTML left out, javascript:/vbscript:/file:/data: links emptied); longer input than archive.max_markdown_bytes is refused';

CREATE FUNCTION archive.page_prose(record jsonb) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'archive_page_prose'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.page_prose(jsonb) IS
    'The sentences of a topic page as plain text: {definition, claims[], advice[], pitfalls[], reading_path[{title, url, why}]}; an array is empty where the page shows a fallback sentence instead of a list';

CREATE FUNCTION archive.page_markdown(record jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'archive_page_markdown'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.page_markdown(jsonb) IS
    'A topic page record as CommonMark, rendered from a cmark node tree so that every title, tag, summary and url reads back as exactly its text';

CREATE FUNCTION archive.page_html(record jsonb) RETURNS text
    AS 'MODULE_PATHNAME', 'archive_page_html'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.page_html(jsonb) IS
    'A topic page record as a standalone HTML5 document (inline style, no script, no external assets): the page''s text rendered from its cmark tree in safe mode, with an inline SVG chart of posts per year drawn from numbers only';

CREATE FUNCTION archive.page_render(record jsonb, OUT prose jsonb, OUT markdown text, OUT html text)
    RETURNS record
    AS 'MODULE_PATHNAME', 'archive_page_render'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.page_render(jsonb) IS
    'A topic page record as archive.page_prose, archive.page_markdown and archive.page_html give it, in one call that reads the record and writes the page''s sentences once for the three';

-- ===========================================================================
-- The store: posts, topics, memberships, and where posts come from
-- ===========================================================================

CREATE TYPE archive.visibility AS ENUM ('public', 'draft', 'private');
COMMENT ON TYPE archive.visibility IS 'Who may see a post: only public posts count anywhere in topic pages';

CREATE TABLE archive.posts (
    key text PRIMARY KEY CHECK (key <> ''),
    url text,
    slug text,
    title text,
    summary text,
    published_at timestamptz CHECK (pg_catalog.isfinite(published_at)),
    tags text[] NOT NULL DEFAULT '{}' CHECK (coalesce(pg_catalog.array_ndims(tags), 1) = 1),
    authors text[] NOT NULL DEFAULT '{}',
    body_markdown text,
    visibility archive.visibility NOT NULL DEFAULT 'public',
    updated_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE archive.posts IS
    'The embedded post store: one row per post, keyed by a stable key (the loader uses the url)';
COMMENT ON COLUMN archive.posts.key IS 'Stable identity of the post; the JSON Lines loader uses the post''s key or url';
COMMENT ON COLUMN archive.posts.url IS 'Address of the post';
COMMENT ON COLUMN archive.posts.slug IS 'The post''s slug';
COMMENT ON COLUMN archive.posts.title IS 'Title of the post: the source of title motifs';
COMMENT ON COLUMN archive.posts.summary IS 'Short summary, shown with the post in a topic''s references';
COMMENT ON COLUMN archive.posts.published_at IS 'Publication time; NULL for an undated post';
COMMENT ON COLUMN archive.posts.tags IS 'Tags as written (compared after archive.normalize_tag)';
COMMENT ON COLUMN archive.posts.authors IS 'Author names';
COMMENT ON COLUMN archive.posts.body_markdown IS 'Body of the post as Markdown';
COMMENT ON COLUMN archive.posts.visibility IS 'public, draft or private; only public posts count';
COMMENT ON COLUMN archive.posts.updated_at IS 'When the row was last written';
SELECT pg_catalog.pg_extension_config_dump('archive.posts', '');

CREATE TABLE archive.topics (
    slug text PRIMARY KEY CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name text NOT NULL CHECK (pg_catalog.btrim(name) <> ''),
    lens text,
    through_line text,
    -- one-dimensional: the pages list their elements (a CHECK, so that no row can fail every refresh)
    advice text[] NOT NULL DEFAULT '{}' CHECK (coalesce(pg_catalog.array_ndims(advice), 1) = 1),
    pitfalls text[] NOT NULL DEFAULT '{}' CHECK (coalesce(pg_catalog.array_ndims(pitfalls), 1) = 1),
    tags text[] NOT NULL DEFAULT '{}' CHECK (coalesce(pg_catalog.array_ndims(tags), 1) = 1)
);
COMMENT ON TABLE archive.topics IS
    'Defined topics with their editorial text; a post belongs to a topic when it carries one of its tags or post_topics says so. With no rows, every tag of archive.min_topic_posts public posts is a topic';
COMMENT ON COLUMN archive.topics.slug IS 'Identity of the topic and of its page: lower-case letters and digits joined by hyphens';
COMMENT ON COLUMN archive.topics.name IS 'Display name of the topic';
COMMENT ON COLUMN archive.topics.lens IS 'The angle the topic''s page takes, woven into its definition; NULL for none';
COMMENT ON COLUMN archive.topics.through_line IS 'One editorial sentence on what holds the topic together, the first claim of its page; NULL for none';
COMMENT ON COLUMN archive.topics.advice IS 'Editorial advice, listed first in the page''s advice';
COMMENT ON COLUMN archive.topics.pitfalls IS 'Editorial pitfalls, listed first in the page''s pitfalls';
COMMENT ON COLUMN archive.topics.tags IS 'Tags whose public posts belong to the topic';
SELECT pg_catalog.pg_extension_config_dump('archive.topics', '');

CREATE TABLE archive.post_topics (
    topic text NOT NULL REFERENCES archive.topics (slug) ON DELETE CASCADE ON UPDATE CASCADE,
    post_key text NOT NULL,
    PRIMARY KEY (topic, post_key)
);
COMMENT ON TABLE archive.post_topics IS
    'Explicit post-to-topic memberships, on top of the memberships that topic tags give';
COMMENT ON COLUMN archive.post_topics.topic IS 'The topic (archive.topics.slug)';
COMMENT ON COLUMN archive.post_topics.post_key IS 'The post (its key in archive.post_source)';
SELECT pg_catalog.pg_extension_config_dump('archive.post_topics', '');
-- A post's topics, looked up by the refresh for each changed post.
CREATE INDEX post_topics_post_key_idx ON archive.post_topics (post_key);

CREATE TABLE archive.source (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    relation text NOT NULL,
    columns jsonb NOT NULL DEFAULT '{}',
    viewdef text
);
COMMENT ON TABLE archive.source IS
    'Where posts come from when not from archive.posts: a relation and a column mapping (see archive.set_source)';
COMMENT ON COLUMN archive.source.singleton IS 'Always true: the table holds at most one row';
COMMENT ON COLUMN archive.source.relation IS 'The table or view posts are read from';
COMMENT ON COLUMN archive.source.columns IS 'Post column to the relation''s column, for the columns named differently';
COMMENT ON COLUMN archive.source.viewdef IS 'Definition archive.post_source was given, to recreate it when it differs (after a restore)';
SELECT pg_catalog.pg_extension_config_dump('archive.source', '');

CREATE VIEW archive.post_source WITH (security_invoker) AS
SELECT key, url, slug, title, summary, published_at, tags, authors, body_markdown, visibility
FROM archive.posts;
COMMENT ON VIEW archive.post_source IS
    'Posts as the extension reads them: archive.posts, or the relation given to archive.set_source';
COMMENT ON COLUMN archive.post_source.key IS 'Stable identity of the post; the JSON Lines loader uses the post''s key or url';
COMMENT ON COLUMN archive.post_source.url IS 'Address of the post';
COMMENT ON COLUMN archive.post_source.slug IS 'The post''s slug';
COMMENT ON COLUMN archive.post_source.title IS 'Title of the post: the source of title motifs';
COMMENT ON COLUMN archive.post_source.summary IS 'Short summary, shown with the post in a topic''s references';
COMMENT ON COLUMN archive.post_source.published_at IS 'Publication time; NULL for an undated post';
COMMENT ON COLUMN archive.post_source.tags IS 'Tags as written (compared after archive.normalize_tag)';
COMMENT ON COLUMN archive.post_source.authors IS 'Author names';
COMMENT ON COLUMN archive.post_source.body_markdown IS 'Body of the post as Markdown';
COMMENT ON COLUMN archive.post_source.visibility IS 'public, draft or private; only public posts count';

CREATE FUNCTION archive.normalize_tags(tags text[]) RETURNS text[]
    AS 'MODULE_PATHNAME', 'archive_normalize_tags'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION archive.normalize_tags(text[]) IS
    'The distinct normalised tags of an array, in order of first appearance, blanks left out';

CREATE FUNCTION archive.slugify(name text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
        SELECT nullif(btrim(regexp_replace(lower(name), '[^a-z0-9]+', '-', 'g'), '-'), '')
    $$;
COMMENT ON FUNCTION archive.slugify(text) IS
    'A url-safe slug of a name: lower-case ASCII letters and digits joined by hyphens; NULL when none are left';

CREATE FUNCTION archive.set_source(relation regclass, columns jsonb DEFAULT '{}')
    RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        wanted constant text[] := ARRAY['key', 'url', 'slug', 'title', 'summary', 'published_at',
                                        'tags', 'authors', 'body_markdown', 'visibility'];
        types constant text[] := ARRAY['text', 'text', 'text', 'text', 'text', 'timestamptz',
                                       'text[]', 'text[]', 'text', 'archive.visibility'];
        col text;
        source_col text;
        exprs text[] := '{}';
        unknown text;
    BEGIN
        SELECT string_agg(k, ', ') INTO unknown
        FROM jsonb_object_keys(columns) AS k WHERE k <> ALL (wanted);
        IF unknown IS NOT NULL THEN
            RAISE EXCEPTION 'unknown post columns in mapping: %', unknown
                USING ERRCODE = 'invalid_parameter_value',
                      HINT = 'Map any of: ' || array_to_string(wanted, ', ');
        END IF;
        FOR i IN 1 .. array_length(wanted, 1) LOOP
            col := wanted[i];
            source_col := coalesce(columns ->> col, col);
            IF EXISTS (SELECT 1 FROM pg_attribute
                       WHERE attrelid = relation AND attname = source_col
                         AND attnum > 0 AND NOT attisdropped) THEN
                exprs := exprs || format('(%I)::%s AS %I', source_col, types[i], col);
            ELSIF col IN ('key', 'title') OR columns ? col THEN
                RAISE EXCEPTION 'relation % has no column "%" for post %', relation, source_col, col
                    USING ERRCODE = 'undefined_column';
            ELSIF col = 'visibility' THEN
                exprs := exprs || format('%L::archive.visibility AS visibility', 'public');
            ELSIF col IN ('tags', 'authors') THEN
                exprs := exprs || format('%L::text[] AS %I', '{}', col);
            ELSE
                exprs := exprs || format('NULL::%s AS %I', types[i], col);
            END IF;
        END LOOP;
        EXECUTE format('CREATE OR REPLACE VIEW archive.post_source WITH (security_invoker) AS SELECT %s FROM %s',
                       array_to_string(exprs, ', '), relation);
        INSERT INTO archive.source (relation, columns, viewdef)
        VALUES (relation::text, columns, pg_get_viewdef('archive.post_source'::regclass))
        ON CONFLICT (singleton) DO UPDATE
            SET relation = excluded.relation, columns = excluded.columns, viewdef = excluded.viewdef;
    END
    $$;
COMMENT ON FUNCTION archive.set_source(regclass, jsonb) IS
    'Read posts from an existing table or view; columns maps post columns (key, title, published_at, tags, ...) to its columns';

CREATE FUNCTION archive.reset_source() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        EXECUTE 'CREATE OR REPLACE VIEW archive.post_source WITH (security_invoker) AS '
             || 'SELECT key, url, slug, title, summary, published_at, tags, authors, body_markdown, visibility '
             || 'FROM archive.posts';
        DELETE FROM archive.source;
        IF FOUND THEN
            -- the pages were built from the other relation: the next refresh rebuilds them all
            INSERT INTO archive.changes (everything) VALUES (true);
        END IF;
    END
    $$;
COMMENT ON FUNCTION archive.reset_source() IS 'Read posts from archive.posts again';

CREATE FUNCTION archive.ensure_source() RETURNS void
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        configured archive.source;
    BEGIN
        SELECT * INTO configured FROM archive.source;
        IF FOUND AND configured.viewdef IS DISTINCT FROM pg_get_viewdef('archive.post_source'::regclass) THEN
            PERFORM archive.set_source(configured.relation::regclass, configured.columns);
        END IF;
    END
    $$;
COMMENT ON FUNCTION archive.ensure_source() IS
    'Recreate archive.post_source from archive.source when they differ (after a restore, say); refresh calls it';

-- ---------------------------------------------------------------------------
-- Topics and memberships as the pages see them (public posts only)
-- ---------------------------------------------------------------------------

CREATE VIEW archive.public_posts WITH (security_invoker) AS
SELECT key, url, slug, title, summary, published_at, archive.normalize_tags(tags) AS tags, authors
FROM archive.post_source
WHERE visibility = 'public';
COMMENT ON VIEW archive.public_posts IS 'The public posts, tags normalised: the only posts any figure or page counts';
COMMENT ON COLUMN archive.public_posts.key IS 'Stable identity of the post; the JSON Lines loader uses the post''s key or url';
COMMENT ON COLUMN archive.public_posts.url IS 'Address of the post';
COMMENT ON COLUMN archive.public_posts.slug IS 'The post''s slug';
COMMENT ON COLUMN archive.public_posts.title IS 'Title of the post: the source of title motifs';
COMMENT ON COLUMN archive.public_posts.summary IS 'Short summary, shown with the post in a topic''s references';
COMMENT ON COLUMN archive.public_posts.published_at IS 'Publication time; NULL for an undated post';
COMMENT ON COLUMN archive.public_posts.tags IS 'The post''s distinct normalised tags, blanks left out';
COMMENT ON COLUMN archive.public_posts.authors IS 'Author names';

CREATE FUNCTION archive.public_tag_counts() RETURNS archive.termcounts
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    -- At the largest capacity: exact up to 2,097,152 distinct tags.  At
    -- archive.summary_capacity the long tail was undercounted and topics dropped (at a
    -- million posts and 20,000 tags the catalog kept 3,039 of the 20,001 tags of 3
    -- posts or more); a GROUP BY over unnested tags is exact too, but twice as slow.
    SET archive.summary_capacity = 1048576
    AS $$
    SELECT archive.tag_counts_agg(p.tags) FROM archive.public_posts AS p
    $$;
COMMENT ON FUNCTION archive.public_tag_counts() IS
    'The tags of all public posts as one summary at the largest capacity (exact up to 2,097,152 distinct tags): the counts implicit topics are chosen by';

CREATE VIEW archive.topic_catalog WITH (security_invoker) AS
WITH implicit_topics AS (
    SELECT t.term AS tag, coalesce(archive.slugify(t.term), 'topic') AS base_slug,
           row_number() OVER (PARTITION BY coalesce(archive.slugify(t.term), 'topic')
                              ORDER BY t.count DESC, t.term COLLATE "C") AS dup
    FROM archive.terms(archive.public_tag_counts()) AS t
    WHERE t.count >= current_setting('archive.min_topic_posts', true)::int
)
SELECT slug AS topic, name, lens, through_line, advice, pitfalls,
       archive.normalize_tags(tags) AS tags, false AS implicit
FROM archive.topics
UNION ALL
-- A tag whose slug is taken gets "-2", "-3"...; "--2" when that is another tag's slug
-- (a slug never holds "--" otherwise), so no two topics share one.
SELECT CASE WHEN i.dup = 1 THEN i.base_slug
            WHEN EXISTS (SELECT 1 FROM implicit_topics AS o WHERE o.base_slug = i.base_slug || '-' || i.dup)
            THEN i.base_slug || '--' || i.dup
            ELSE i.base_slug || '-' || i.dup END,
       upper(left(translate(i.tag, '-_', '  '), 1)) || substr(translate(i.tag, '-_', '  '), 2), NULL, NULL, '{}', '{}', ARRAY[i.tag], true
FROM implicit_topics AS i
WHERE NOT EXISTS (SELECT 1 FROM archive.topics);
COMMENT ON VIEW archive.topic_catalog IS
    'Every topic: the rows of archive.topics, or, when there are none, one topic per tag of at least archive.min_topic_posts public posts';
COMMENT ON COLUMN archive.topic_catalog.topic IS 'Slug of the topic';
COMMENT ON COLUMN archive.topic_catalog.name IS 'Display name (for an implicit topic: its tag, capitalised)';
COMMENT ON COLUMN archive.topic_catalog.lens IS 'The angle the topic''s page takes, woven into its definition; NULL for none';
COMMENT ON COLUMN archive.topic_catalog.through_line IS 'One editorial sentence on what holds the topic together, the first claim of its page; NULL for none';
COMMENT ON COLUMN archive.topic_catalog.advice IS 'Editorial advice, listed first in the page''s advice';
COMMENT ON COLUMN archive.topic_catalog.pitfalls IS 'Editorial pitfalls, listed first in the page''s pitfalls';
COMMENT ON COLUMN archive.topic_catalog.tags IS 'The topic''s normalised tags';
COMMENT ON COLUMN archive.topic_catalog.implicit IS 'True for a topic made from a tag because archive.topics is empty';

CREATE VIEW archive.topic_member_posts WITH (security_invoker) AS
SELECT c.topic, p.key AS post_key, p.url, p.slug, p.title, p.summary, p.published_at, p.tags, p.authors
FROM archive.public_posts AS p
CROSS JOIN LATERAL unnest(p.tags) WITH ORDINALITY AS pt(tag, n)
JOIN (SELECT t.topic, t.tags AS topic_tags, unnest(t.tags) AS tag FROM archive.topic_catalog AS t) AS c
  ON c.tag = pt.tag
-- Each membership once, without sorting them all to find the repeats (at a million
-- posts, a UNION sorted two million memberships: 5 s of a full refresh's 50): a post
-- counts at the first of its tags the topic has (a post's normalised tags are
-- distinct, and so are a topic's), and by its tags unless post_topics lists it too.
WHERE NOT EXISTS (SELECT 1 FROM unnest(p.tags) WITH ORDINALITY AS e(tag, n)
                  WHERE e.n < pt.n AND e.tag = ANY (c.topic_tags))
  AND NOT EXISTS (SELECT 1 FROM archive.post_topics AS x WHERE x.topic = c.topic AND x.post_key = p.key)
UNION ALL
SELECT pt.topic, p.key, p.url, p.slug, p.title, p.summary, p.published_at, p.tags, p.authors
FROM archive.post_topics AS pt
JOIN archive.public_posts AS p ON p.key = pt.post_key;
COMMENT ON VIEW archive.topic_member_posts IS
    'Which public posts belong to which topic, each membership once with the post''s columns as archive.public_posts has them';
COMMENT ON COLUMN archive.topic_member_posts.topic IS 'Slug of the topic';
COMMENT ON COLUMN archive.topic_member_posts.post_key IS 'Key of a public post that belongs to it';
COMMENT ON COLUMN archive.topic_member_posts.url IS 'Address of the post';
COMMENT ON COLUMN archive.topic_member_posts.slug IS 'The post''s slug';
COMMENT ON COLUMN archive.topic_member_posts.title IS 'Title of the post';
COMMENT ON COLUMN archive.topic_member_posts.summary IS 'Short summary of the post';
COMMENT ON COLUMN archive.topic_member_posts.published_at IS 'Publication time; NULL for an undated post';
COMMENT ON COLUMN archive.topic_member_posts.tags IS 'The post''s distinct normalised tags';
COMMENT ON COLUMN archive.topic_member_posts.authors IS 'Author names';

-- (the columns a query does not read are never computed: listing the memberships
-- reads only the posts' keys and tags)
CREATE VIEW archive.topic_members WITH (security_invoker) AS
SELECT m.topic, m.post_key FROM archive.topic_member_posts AS m;
COMMENT ON VIEW archive.topic_members IS
    'Which public posts belong to which topic: by a topic tag or by an explicit membership';
COMMENT ON COLUMN archive.topic_members.topic IS 'Slug of the topic';
COMMENT ON COLUMN archive.topic_members.post_key IS 'Key of a public post that belongs to it';

-- ===========================================================================
-- Topic-page records
-- ===========================================================================

CREATE FUNCTION archive.half_motifs(half archive.termcounts, other_half archive.termcounts,
                                    whole archive.termcounts, k integer)
    RETURNS jsonb
    AS 'MODULE_PATHNAME', 'archive_half_motifs'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.half_motifs(archive.termcounts, archive.termcounts, archive.termcounts, integer) IS
    'The k title motifs that set one half of a topic''s posts apart from the other half, strongest first';

CREATE FUNCTION archive.adjacent_tags(topic_tags archive.termcounts, archive_tags archive.termcounts,
                                      own_tags text[], k integer)
    RETURNS TABLE (term text, count bigint, share float8, lift float8, strength float8)
    AS 'MODULE_PATHNAME', 'archive_adjacent_tags'
    LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 5;
COMMENT ON FUNCTION archive.adjacent_tags(archive.termcounts, archive.termcounts, text[], integer) IS
    'The k tags that travel with a topic most strongly (posts * ln(lift), lift = share in the topic / share in the archive, only lift > 1), leaving out its own tags, strongest first';

CREATE FUNCTION archive.reference_with_most_tags(refs jsonb, tags text[],
                                                skip_first boolean DEFAULT false, skip_last boolean DEFAULT false,
                                                OUT n integer, OUT shared integer)
    AS 'MODULE_PATHNAME', 'archive_reference_with_most_tags'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.reference_with_most_tags(jsonb, text[], boolean, boolean) IS
    'Of a jsonb array of posts (each with a tags array), the first that carries most of the given tags (1-based) and how many; NULLs when none carries any. skip_first and skip_last leave out the first and last post';

CREATE FUNCTION archive.references_trans(internal, text, text, text, text, text[], timestamptz)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_references_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.references_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'archive_references_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.references_trans(internal, text, text, text, text, text[], timestamptz) IS
    'Transition function of archive.references_agg';
COMMENT ON FUNCTION archive.references_final(internal) IS
    'Final function of archive.references_agg';

-- (no combine function: the refresh builds one list per topic and month, a few
-- posts each, and never splits one across workers)
CREATE AGGREGATE archive.references_agg(key text, title text, url text, summary text,
                                        tags text[], published_at timestamptz) (
    SFUNC = archive.references_trans,
    STYPE = internal,
    SSPACE = 2048,
    FINALFUNC = archive.references_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.references_agg(text, text, text, text, text[], timestamptz) IS
    'Posts as a reference list: a jsonb array of objects (key, title, url, summary, tags, published_at), newest first, undated last, then by key descending';

CREATE FUNCTION archive.references_merge(refs jsonb, removed text[], added jsonb,
                                         OUT merged jsonb, OUT posts integer, OUT span archive.span,
                                         OUT dropped jsonb)
    AS 'MODULE_PATHNAME', 'archive_references_merge'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.references_merge(jsonb, text[], jsonb) IS
    'merged: the posts of a reference list whose key is not in removed, and those of added, as one reference list (newest first, undated last, then by key descending), NULL when none; posts: how many; span: their archive.span; dropped: the posts left out';

CREATE FUNCTION archive.reading_refs_trans(internal, date, jsonb, text[], integer) RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_reading_refs_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.reading_refs_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'archive_reading_refs_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.reading_refs_trans(internal, date, jsonb, text[], integer) IS
    'Transition function of archive.reading_refs_agg';
COMMENT ON FUNCTION archive.reading_refs_final(internal) IS
    'Final function of archive.reading_refs_agg';

-- (no combine function: a topic's months are read in one place, and the state
-- holds each month's whole reference list, some 2 kB)
CREATE AGGREGATE archive.reading_refs_agg(month date, refs jsonb, strongest text[], max_refs integer) (
    SFUNC = archive.reading_refs_trans,
    STYPE = internal,
    SSPACE = 400000,
    FINALFUNC = archive.reading_refs_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.reading_refs_agg(date, jsonb, text[], integer) IS
    'A topic''s page references (its first max_refs posts, without keys) and reading path (newest, central, oldest post) from its months'' reference lists, as a jsonb object';

CREATE FUNCTION archive.motif_figures_trans(internal, date, bigint, archive.termcounts, integer, integer)
    RETURNS internal
    AS 'MODULE_PATHNAME', 'archive_motif_figures_trans'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION archive.motif_figures_final(internal) RETURNS jsonb
    AS 'MODULE_PATHNAME', 'archive_motif_figures_final'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.motif_figures_trans(internal, date, bigint, archive.termcounts, integer, integer) IS
    'Transition function of archive.motif_figures_agg';
COMMENT ON FUNCTION archive.motif_figures_final(internal) IS
    'Final function of archive.motif_figures_agg';

-- (no combine function: a topic's months are read in one place, and the state
-- holds each month's title summary, some 1 kB)
CREATE AGGREGATE archive.motif_figures_agg(month date, posts bigint, titles archive.termcounts,
                                           k integer, half_k integer) (
    SFUNC = archive.motif_figures_trans,
    STYPE = internal,
    SSPACE = 200000,
    FINALFUNC = archive.motif_figures_final,
    PARALLEL = SAFE
);
COMMENT ON AGGREGATE archive.motif_figures_agg(date, bigint, archive.termcounts, integer, integer) IS
    'A topic''s title motifs from its months'' title summaries, as a jsonb object: title_motifs (its k strongest recurring motifs), early_motifs and recent_motifs (the half_k that set its older and newer half apart)';

CREATE FUNCTION archive.month_of(published_at timestamptz) RETURNS date
    AS 'MODULE_PATHNAME', 'archive_month_of'
    LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION archive.month_of(timestamptz) IS
    'The calendar month (UTC) a post is summarised under; -infinity for an undated post';

-- The mergeable summaries pages are assembled from: per topic and month, and
-- the whole archive's tags per month (for lift).  A refresh recomputes only the
-- rows that changes touched.
CREATE TABLE archive.topic_months (
    topic text NOT NULL,
    month date NOT NULL,
    posts integer NOT NULL CHECK (posts > 0),
    span archive.span NOT NULL,
    tags archive.termcounts NOT NULL,
    titles archive.termcounts NOT NULL,
    refs jsonb NOT NULL,
    PRIMARY KEY (topic, month)
);
COMMENT ON TABLE archive.topic_months IS
    'Summaries of each topic''s public posts per calendar month (span, tags, title words, references); maintained by archive.refresh()';
COMMENT ON COLUMN archive.topic_months.topic IS 'Slug of the topic';
COMMENT ON COLUMN archive.topic_months.month IS 'Calendar month (UTC) of the posts; -infinity for undated posts';
COMMENT ON COLUMN archive.topic_months.posts IS 'Public posts of the topic in the month';
COMMENT ON COLUMN archive.topic_months.span IS 'Span of those posts';
COMMENT ON COLUMN archive.topic_months.tags IS 'Tag summary of those posts';
COMMENT ON COLUMN archive.topic_months.titles IS 'Title word summary of those posts';
COMMENT ON COLUMN archive.topic_months.refs IS 'Those posts as references (key, title, url, summary, tags, published_at), newest first; archive.topic_references reads them';

CREATE TABLE archive.archive_months (
    month date PRIMARY KEY,
    tags archive.termcounts NOT NULL
);
COMMENT ON TABLE archive.archive_months IS
    'Tag summary of all public posts per calendar month, for lift, exact up to 2,097,152 distinct tags; maintained by archive.refresh()';
COMMENT ON COLUMN archive.archive_months.month IS 'Calendar month (UTC); -infinity for undated posts';
COMMENT ON COLUMN archive.archive_months.tags IS 'Tag summary of all public posts of the month';

CREATE FUNCTION archive.topic_months_query(memberships text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    -- The one query that summarises memberships into topic_months rows, for EXECUTE:
    -- memberships is a FROM item without an alias with the columns of
    -- archive.topic_member_posts, its memberships distinct and its posts public.
    -- (The posts come with the memberships: joined to archive.public_posts again, a full
    -- refresh hashed every post twice; at a million posts, in six alternated runs, the
    -- query took 17.4-19.1 s that way and 14.8-18.0 s this way.  Grouped by the topic in
    -- the C collation: the sort compares abbreviated keys, not strcoll, 4 s faster there;
    -- the groups are the same in every deterministic collation.  Sorted in a subquery of
    -- its own: from the view the planner guessed 40,000 groups of 292,017, hashed them
    -- and spilled, 22.8 s against 15.6 s.)
    SELECT 'SELECT m.topic, m.month, count(*)::integer,
                   archive.topic_span(m.published_at), archive.tag_counts_agg(m.tags),
                   archive.title_terms_agg(m.title),
                   archive.references_agg(m.post_key, m.title, m.url, m.summary, m.tags, m.published_at)
            FROM (SELECT m.topic COLLATE "C" AS topic, archive.month_of(m.published_at) AS month,
                         m.post_key, m.url, m.title, m.summary, m.published_at, m.tags
                  FROM ' || memberships || ' AS m
                  ORDER BY 1, 2) AS m
            GROUP BY 1, 2'
    $$;
COMMENT ON FUNCTION archive.topic_months_query(text) IS
    'The query (text, for EXECUTE) that summarises the memberships of a FROM item with the columns of archive.topic_member_posts into topic_months rows';

CREATE FUNCTION archive.summarize_memberships(topics text[], post_keys text[])
    RETURNS SETOF archive.topic_months
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        -- Summaries of the posts post_keys[i] as members of the topics topics[i], by topic
        -- and month; the pairs are distinct, and a post that is not public counts nowhere.
        -- EXECUTE plans the query with these arrays in hand.  A SQL function's body is
        -- planned without them: unnest was guessed at 10 rows, and the posts looked up
        -- one index probe at a time even for the two million memberships of a full
        -- refresh at a million posts, three times slower than hashing them.
        RETURN QUERY EXECUTE archive.topic_months_query(
                '(SELECT m.topic, p.key AS post_key, p.url, p.slug, p.title, p.summary, p.published_at, p.tags, p.authors
                  FROM unnest($1, $2) AS m(topic, post_key)
                  JOIN archive.public_posts AS p ON p.key = m.post_key)')
            USING topics, post_keys;
    END
    $$;
COMMENT ON FUNCTION archive.summarize_memberships(text[], text[]) IS
    'topic_months rows of the given distinct (topic, post) memberships: the refresh''s way of summarising only what changed';

CREATE FUNCTION archive.summarize_topic_months(only_topics text[] DEFAULT NULL,
                                               only_months date[] DEFAULT NULL)
    RETURNS SETOF archive.topic_months
    LANGUAGE plpgsql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        -- Summaries of the given (topic, month) pairs (only_topics[i], only_months[i]),
        -- of whole topics (only_months NULL), or of everything (only_topics NULL): the
        -- memberships with their posts, summarised as they are (gathered into arrays
        -- for archive.summarize_memberships, the posts were joined a second time).
        -- One filter per case: with the three cases in one filter (OR), the planner
        -- joined every membership and filtered them after.  At a million posts the
        -- largest topic took 4.9-5.6 s, now 1.9-2.0 s; three (topic, month) pairs
        -- 2.2 s, now 0.19 s.
        RETURN QUERY EXECUTE archive.topic_months_query(
                '(SELECT * FROM archive.topic_member_posts AS m'
                || CASE WHEN only_topics IS NULL THEN ''
                        WHEN only_months IS NULL THEN ' WHERE m.topic = ANY ($1)'
                        ELSE ' WHERE m.topic = ANY ($1)
                                 AND (m.topic, archive.month_of(m.published_at)) IN (SELECT * FROM unnest($1, $2))' END
                || ')')
            USING only_topics, only_months;
    END
    $$;
COMMENT ON FUNCTION archive.summarize_topic_months(text[], date[]) IS
    'Recompute topic_months rows from the posts: for given (topic, month) pairs, whole topics, or all';

CREATE FUNCTION archive.summarize_archive_months(only_months date[] DEFAULT NULL)
    RETURNS SETOF archive.archive_months
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    -- Lift divides by the archive's count of each tag, the union of these months:
    -- at the largest capacity it stays exact up to 2,097,152 distinct tags.  At
    -- archive.summary_capacity (4096) the union of a million posts' 20,000 tags
    -- kept 5,628 with counts up to 132 too low, and 78% of the pages' lifts were
    -- more than 10% off, some 131 times.  One summary per month, not per topic.
    SET archive.summary_capacity = 1048576
    AS $$
    SELECT archive.month_of(p.published_at), archive.tag_counts_agg(p.tags)
    FROM archive.public_posts AS p
    WHERE only_months IS NULL OR archive.month_of(p.published_at) = ANY (only_months)
    GROUP BY 1
    $$;
COMMENT ON FUNCTION archive.summarize_archive_months(date[]) IS
    'Recompute archive_months rows from the posts: for the given months, or all';

CREATE TABLE archive.page_records (
    topic text PRIMARY KEY,
    name text NOT NULL,
    post_count bigint NOT NULL,
    first_published timestamptz,
    last_published timestamptz,
    span archive.span,
    adjacent_tags text[] NOT NULL,
    adjacent_scores jsonb NOT NULL,
    title_motifs text[] NOT NULL,
    motif_scores jsonb NOT NULL,
    early_motifs text[] NOT NULL,
    recent_motifs text[] NOT NULL,
    reading_path jsonb NOT NULL,
    "references" jsonb NOT NULL,
    definition text NOT NULL,
    claims text[] NOT NULL,
    advice text[] NOT NULL,
    pitfalls text[] NOT NULL,
    record jsonb NOT NULL,
    markdown text NOT NULL,
    html text NOT NULL,
    refreshed_at timestamptz NOT NULL,
    change_id bigint NOT NULL,
    tags archive.termcounts,
    CHECK (jsonb_array_length("references") <= post_count)
);
COMMENT ON TABLE archive.page_records IS
    'The stored topic pages, one row per topic, replaced by archive.refresh(); read them through archive.topic_pages';
COMMENT ON COLUMN archive.page_records.topic IS 'Slug of the topic';
COMMENT ON COLUMN archive.page_records.name IS 'Display name of the topic';
COMMENT ON COLUMN archive.page_records.post_count IS 'Public posts of the topic';
COMMENT ON COLUMN archive.page_records.first_published IS 'Earliest publication among them; NULL when none is dated';
COMMENT ON COLUMN archive.page_records.last_published IS 'Latest publication among them; NULL when none is dated';
COMMENT ON COLUMN archive.page_records.span IS 'Span of the topic''s posts';
COMMENT ON COLUMN archive.page_records.adjacent_tags IS 'Adjacent threads: the tags ranked by posts * ln(lift), strongest first (at most 5)';
COMMENT ON COLUMN archive.page_records.adjacent_scores IS 'Each adjacent tag with its count, share, lift, strength and page url (jsonb array)';
COMMENT ON COLUMN archive.page_records.title_motifs IS 'Words that recur in at least two titles of the topic, strongest first (at most 6)';
COMMENT ON COLUMN archive.page_records.motif_scores IS 'Each title motif with its count and share (jsonb array)';
COMMENT ON COLUMN archive.page_records.early_motifs IS 'Motifs that set the older half of the topic''s dated posts apart';
COMMENT ON COLUMN archive.page_records.recent_motifs IS 'Motifs that set the newer half of the topic''s dated posts apart';
COMMENT ON COLUMN archive.page_records.reading_path IS 'The newest, the most central and the oldest post, each with title, url and why (jsonb array)';
COMMENT ON COLUMN archive.page_records."references" IS 'The newest archive.page_references posts of the topic (title, url, summary, tags, published_at), newest first, undated last (jsonb array); archive.topic_references lists them all';
COMMENT ON COLUMN archive.page_records.definition IS 'Generated opening paragraph of the page';
COMMENT ON COLUMN archive.page_records.claims IS 'Generated sentences about the topic, after the through-line';
COMMENT ON COLUMN archive.page_records.advice IS 'Advice as the page lists it: the topic''s own, then generated';
COMMENT ON COLUMN archive.page_records.pitfalls IS 'Pitfalls as the page lists them: the topic''s own, then generated';
COMMENT ON COLUMN archive.page_records.record IS 'The page record: every figure of the page, as archive.page_markdown and archive.page_html read it';
COMMENT ON COLUMN archive.page_records.markdown IS 'The page as CommonMark';
COMMENT ON COLUMN archive.page_records.html IS 'The page as a standalone HTML document';
COMMENT ON COLUMN archive.page_records.refreshed_at IS 'Start of the refresh that wrote the row';
COMMENT ON COLUMN archive.page_records.change_id IS 'Last change of archive.changes the row reflects';
COMMENT ON COLUMN archive.page_records.tags IS
    'Tag summary of the topic''s posts, its months'' merged as archive.page_figures merges them; NULL without posts. A refresh after a change of the archive''s tag counts reads it for the topics whose months did not change';

-- Every refresh writes the summaries and pages, and every page view reads one:
-- lz4 compresses several times faster than the default pglz and decompresses
-- faster too.  A server built without lz4 keeps its default.
DO $$
BEGIN
    ALTER TABLE archive.topic_months
        ALTER COLUMN tags SET COMPRESSION lz4, ALTER COLUMN titles SET COMPRESSION lz4,
        ALTER COLUMN refs SET COMPRESSION lz4;
    ALTER TABLE archive.archive_months ALTER COLUMN tags SET COMPRESSION lz4;
    ALTER TABLE archive.page_records
        ALTER COLUMN "references" SET COMPRESSION lz4, ALTER COLUMN record SET COMPRESSION lz4,
        ALTER COLUMN markdown SET COMPRESSION lz4, ALTER COLUMN html SET COMPRESSION lz4,
        ALTER COLUMN tags SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    NULL;
END
$$;

CREATE FUNCTION archive.page_figures(only_topics text[] DEFAULT NULL, settled_topics text[] DEFAULT NULL)
    RETURNS TABLE (topic text, span archive.span, tags archive.termcounts, record jsonb)
    LANGUAGE sql STABLE PARALLEL SAFE
    -- A call assembles pages at a few milliseconds each: at the default cost (100) the
    -- planner ran the refresh's calls one after another rather than in parallel.
    COST 1000000
    SET search_path = pg_catalog, pg_temp
    -- A page's figures merge its months at the largest capacity: exact whenever the
    -- months are.  (At archive.summary_capacity the union of the biggest topics'
    -- tags pruned: on a million posts 18 topics, 90 adjacent-tag counts too low.)
    SET archive.summary_capacity = 1048576
    AS $$
    WITH all_topics AS MATERIALIZED (
        SELECT * FROM archive.topic_catalog
    ),
    catalog AS (
        SELECT * FROM all_topics AS c
        WHERE only_topics IS NULL OR c.topic = ANY (only_topics)
    ),
    -- Each month's summaries are read once: into the topic's span, its tags and its
    -- title motifs (archive.motif_figures_agg splits the months into the older and
    -- the newer half itself).  Months are merged in order: a summary that prunes
    -- depends on the order of its merges, and a page must not depend on the plan
    -- that read its months.  Each topic's months are read on their own, in the
    -- primary key's order: no sort, no hash of every month, whatever the estimates.
    -- A settled topic (its months as when its page was written) has them read from
    -- its page instead: span, tag union and the motifs of its record.
    figures AS (
        SELECT c.topic, m.*
        FROM catalog AS c
        CROSS JOIN LATERAL (
            SELECT archive.span_union_agg(tm.span) AS span,
                   archive.termcounts_union_agg(tm.tags ORDER BY tm.month) AS tag_summary,
                   archive.motif_figures_agg(tm.month, tm.posts, tm.titles, 6, 3) AS motifs
            FROM archive.topic_months AS tm
            WHERE tm.topic = c.topic) AS m
        WHERE NOT (c.topic = ANY (coalesce(settled_topics, '{}')))
           OR NOT EXISTS (SELECT 1 FROM archive.page_records AS p WHERE p.topic = c.topic)
        UNION ALL
        SELECT c.topic, p.span, p.tags,
               jsonb_build_object('title_motifs', p.record -> 'title_motifs', 'early_motifs', p.record -> 'early_motifs',
                                  'recent_motifs', p.record -> 'recent_motifs')
        FROM catalog AS c
        JOIN archive.page_records AS p ON p.topic = c.topic
        WHERE c.topic = ANY (settled_topics)
    ),
    -- Adjacent tags: strength = posts carrying the tag * ln(lift), lift = share in
    -- the topic / share in the whole archive; only tags with lift > 1 are neighbours.
    -- (archive.adjacent_tags reads the archive's summary once for all topics.  Its
    -- months are merged in order: past 2 x archive.summary_capacity tags the union
    -- prunes, and in the table's order an incremental refresh, which rewrites some
    -- months, gave other lifts than a full one.)
    adjacent AS MATERIALIZED (
        SELECT f.topic,
               jsonb_agg(jsonb_build_object(
                   'term', a.term, 'count', a.count, 'share', round(a.share::numeric, 4),
                   'lift', round(a.lift::numeric, 3), 'strength', round(a.strength::numeric, 3),
                   'url', (SELECT replace(current_setting('archive.topic_url', true), '{slug}', o.topic)
                           FROM all_topics AS o
                           WHERE current_setting('archive.topic_url', true) <> '' AND a.term = ANY (o.tags)
                           ORDER BY o.topic LIMIT 1)) ORDER BY a.rank) AS tags
        FROM figures AS f
        JOIN catalog AS c ON c.topic = f.topic
        CROSS JOIN LATERAL archive.adjacent_tags(
            f.tag_summary, (SELECT archive.termcounts_union_agg(am.tags ORDER BY am.month) FROM archive.archive_months AS am),
            c.tags, 5) WITH ORDINALITY AS a(term, count, share, lift, strength, rank)
        GROUP BY f.topic
    ),
    -- The references a page lists, the newest archive.page_references posts (undated
    -- ones last), and its reading path: the newest post, the most central one (carrying
    -- most of the three strongest adjacent tags, newest first on ties) and the oldest,
    -- read from the months' reference lists in one pass (archive.reading_refs_agg).
    strongest AS (
        SELECT a.topic, ARRAY(SELECT jsonb_array_elements_text(jsonb_path_query_array(a.tags, '$[0 to 2].term'))) AS tags
        FROM adjacent AS a
    ),
    -- A settled topic whose three strongest adjacent tags are those of its page keeps
    -- the page's references and reading path (kept): they depend on nothing else.
    reading AS (
        SELECT c.topic, st.tags AS strongest, k.record AS kept,
               -- (the setting in a subquery of its own: read once, not once per month;
               -- archive.settings() builds its jsonb from text, 11% of assembling pages)
               CASE WHEN k.record IS NULL THEN
                   (SELECT archive.reading_refs_agg(tm.month, tm.refs, st.tags,
                                                    (SELECT (archive.settings() ->> 'page_references')::integer))
                    FROM archive.topic_months AS tm
                    WHERE tm.topic = c.topic) END AS refs
        FROM catalog AS c
        LEFT JOIN strongest AS st ON st.topic = c.topic
        LEFT JOIN archive.page_records AS k
          ON k.topic = c.topic AND c.topic = ANY (settled_topics)
         AND k.adjacent_tags[1:3] = coalesce(st.tags, '{}')
    ),
    path AS (
        SELECT r.topic,
               -- (each topic's steps on their own: ordered in one sort of every topic's
               -- steps, with their references, the sort went to disk, 0.4 s of assembling
               -- 1,800 pages at a million posts)
               CASE WHEN r.kept IS NOT NULL THEN r.kept -> 'reading_path' ELSE
               (SELECT jsonb_agg(jsonb_build_object('role', s.role, 'title', x.ref -> 'title', 'url', x.ref -> 'url',
                                                    'published_at', x.ref -> 'published_at',
                                                    'shared_tags', to_jsonb(x.shared))
                                 ORDER BY s.ord)
                FROM (VALUES (1, 'newest'), (2, 'central'), (3, 'oldest')) AS s(ord, role)
                CROSS JOIN LATERAL (
                    SELECT r.refs -> s.role AS ref,
                           CASE WHEN s.role = 'central'
                                THEN ARRAY(SELECT t.tag FROM unnest(r.strongest) WITH ORDINALITY AS t(tag, rank)
                                           WHERE r.refs -> 'central' -> 'tags' ? t.tag ORDER BY t.rank)
                                ELSE '{}'::text[] END AS shared) AS x
                WHERE jsonb_typeof(x.ref) = 'object') END AS steps
        FROM reading AS r
    )
    SELECT c.topic, f.span, f.tag_summary,
           jsonb_build_object(
               'topic', c.topic, 'name', c.name, 'lens', c.lens, 'through_line', c.through_line,
               'advice', to_jsonb(c.advice), 'pitfalls', to_jsonb(c.pitfalls),
               'post_count', coalesce(archive.posts(f.span), 0),
               'undated_posts', coalesce(archive.undated_posts(f.span), 0),
               'first_published', archive.first_published(f.span),
               'last_published', archive.last_published(f.span),
               'posts_per_month', coalesce((SELECT jsonb_object_agg(to_char(pm.month, 'YYYY-MM'), pm.posts ORDER BY pm.month)
                                            FROM archive.posts_per_month(f.span) AS pm
                                            WHERE pm.month >= '0001-01-01'), '{}'),  -- "YYYY-MM": years AD
               'adjacent_tags', coalesce(a.tags, '[]'),
               'title_motifs', coalesce(f.motifs -> 'title_motifs', '[]'),
               'early_motifs', coalesce(f.motifs -> 'early_motifs', '[]'),
               'recent_motifs', coalesce(f.motifs -> 'recent_motifs', '[]'),
               'reading_path', coalesce(p.steps, '[]'),
               'references', coalesce(CASE WHEN r.kept IS NOT NULL THEN r.kept -> 'references'
                                           ELSE r.refs -> 'references' END, '[]'))
    FROM catalog AS c
    LEFT JOIN figures AS f ON f.topic = c.topic
    LEFT JOIN reading AS r ON r.topic = c.topic
    LEFT JOIN adjacent AS a ON a.topic = c.topic
    LEFT JOIN path AS p ON p.topic = c.topic
    $$;
COMMENT ON FUNCTION archive.page_figures(text[], text[]) IS
    'The page record (every figure, as jsonb) and tag summary of each topic, or of the given topics, assembled from topic_months and archive_months; the settled topics'' span, tag summary and motifs are read from their pages';

CREATE VIEW archive.topic_pages WITH (security_invoker) AS
SELECT topic, name, post_count, first_published, last_published,
       adjacent_tags, adjacent_scores, title_motifs, motif_scores, early_motifs, recent_motifs,
       reading_path, "references", definition, claims, advice, pitfalls, refreshed_at,
       change_id AS refreshed_through_change
FROM archive.page_records;
COMMENT ON VIEW archive.topic_pages IS
    'One row per topic: every figure, the scores behind each list, the generated prose, the reading path and the references';
-- The view's columns mean what the table's columns of the same names mean.
DO $$
DECLARE
    col record;
BEGIN
    FOR col IN SELECT t.attname, pg_catalog.col_description(t.attrelid, t.attnum) AS description
               FROM pg_catalog.pg_attribute AS t
               JOIN pg_catalog.pg_attribute AS v
                 ON v.attrelid = 'archive.topic_pages'::regclass AND v.attname = t.attname
               WHERE t.attrelid = 'archive.page_records'::regclass AND t.attnum > 0 AND NOT t.attisdropped
    LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN archive.topic_pages.%I IS %L', col.attname, col.description);
    END LOOP;
END
$$;
COMMENT ON COLUMN archive.topic_pages.refreshed_through_change IS 'Last change of archive.changes the page reflects';

CREATE FUNCTION archive.topic_references(topic text, "offset" bigint DEFAULT 0, "limit" integer DEFAULT 100)
    RETURNS TABLE (n bigint, key text, title text, url text, summary text, tags text[], published_at timestamptz)
    LANGUAGE sql STABLE PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$
    -- The topic's posts as of the last refresh, numbered newest first (undated
    -- ones last, as on the page), from number "offset" + 1 on, at most "limit" of
    -- them; only the months that hold them are read.
    SELECT m.posts_newer + e.n, e.ref ->> 'key', e.ref ->> 'title', e.ref ->> 'url', e.ref ->> 'summary',
           ARRAY(SELECT jsonb_array_elements_text(e.ref -> 'tags')),
           (e.ref ->> 'published_at')::timestamptz
    FROM (SELECT tm.month, tm.posts, tm.refs,
                 coalesce(sum(tm.posts) OVER (ORDER BY tm.month DESC
                                              ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS posts_newer
          FROM archive.topic_months AS tm
          WHERE tm.topic = $1) AS m
    CROSS JOIN LATERAL jsonb_array_elements(m.refs) WITH ORDINALITY AS e(ref, n)
    WHERE m.posts_newer < greatest($2, 0) + greatest($3, 0) AND m.posts_newer + m.posts > greatest($2, 0)
      AND m.posts_newer + e.n > greatest($2, 0) AND m.posts_newer + e.n <= greatest($2, 0) + greatest($3, 0)
    ORDER BY m.month DESC, e.n
    $$;
COMMENT ON FUNCTION archive.topic_references(text, bigint, integer) IS
    'A topic''s posts as of the last refresh, newest first, undated last: "limit" of them after the first "offset"; pages list only the newest archive.page_references';

-- ---------------------------------------------------------------------------
-- Freshness: the change log, incremental and atomic refresh, scheduling
-- ---------------------------------------------------------------------------

CREATE TABLE archive.changes (
    change_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    post_key text,
    post_tags text[],
    month date,
    topic text,
    everything boolean NOT NULL DEFAULT false,
    changed_at timestamptz NOT NULL DEFAULT pg_catalog.now()
);
COMMENT ON TABLE archive.changes IS
    'Changes not yet applied to the pages: a public post version (key, normalised tags, month), a whole topic, or everything; refresh consumes them';
COMMENT ON COLUMN archive.changes.change_id IS 'Order of the change';
COMMENT ON COLUMN archive.changes.post_key IS 'Key of a changed public post version, or of the post of a changed membership; NULL for a topic or whole-archive change';
COMMENT ON COLUMN archive.changes.post_tags IS 'Normalised tags of that post version';
COMMENT ON COLUMN archive.changes.month IS 'Calendar month (UTC) of that post version; -infinity when undated';
COMMENT ON COLUMN archive.changes.topic IS 'Slug of a changed topic (its definition), or with post_key of a changed membership; NULL otherwise';
COMMENT ON COLUMN archive.changes.everything IS 'True when every page must be recomputed';
COMMENT ON COLUMN archive.changes.changed_at IS 'Start of the transaction that made the change';
COMMENT ON SEQUENCE archive.changes_change_id_seq IS 'Identity sequence of archive.changes.change_id';

CREATE TABLE archive.refresh_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    last_change_id bigint NOT NULL,
    settings jsonb NOT NULL,
    refreshed_at timestamptz NOT NULL,
    mode text NOT NULL
);
COMMENT ON TABLE archive.refresh_state IS
    'What the last refresh applied: the last change, the settings the pages were built with, when and how';
COMMENT ON COLUMN archive.refresh_state.singleton IS 'Always true: the table holds at most one row';
COMMENT ON COLUMN archive.refresh_state.last_change_id IS 'Last change of archive.changes the pages reflect';
COMMENT ON COLUMN archive.refresh_state.settings IS 'The archive.* settings the pages were built with (those that shape pages)';
COMMENT ON COLUMN archive.refresh_state.refreshed_at IS 'Start of the last refresh';
COMMENT ON COLUMN archive.refresh_state.mode IS 'How the last refresh ran: full or incremental';

CREATE TABLE archive.refresh_catalog (
    topic text PRIMARY KEY,
    tags text[] NOT NULL
);
COMMENT ON TABLE archive.refresh_catalog IS
    'The topics and their tags as the last refresh found them: a topic whose tags changed since (an implicit topic''s slug passes to another tag when tags sharing a slug change sizes) is recomputed whole; maintained by archive.refresh()';
COMMENT ON COLUMN archive.refresh_catalog.topic IS 'Slug of the topic';
COMMENT ON COLUMN archive.refresh_catalog.tags IS 'Its normalised tags at the last refresh';

-- Log every public version of the posts a statement touched.
CREATE FUNCTION archive.log_post_changes() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO archive.changes (post_key, post_tags, month)
            SELECT o.key, archive.normalize_tags(o.tags), archive.month_of(o.published_at)
            FROM old_rows AS o WHERE o.visibility = 'public';
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO archive.changes (post_key, post_tags, month)
            SELECT n.key, archive.normalize_tags(n.tags), archive.month_of(n.published_at)
            FROM new_rows AS n WHERE n.visibility = 'public';
        END IF;
        RETURN NULL;
    END
    $$;
COMMENT ON FUNCTION archive.log_post_changes() IS 'Trigger: log the public post versions a statement on archive.posts touched';

-- Log the memberships a statement on post_topics touched.
CREATE FUNCTION archive.log_membership_changes() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO archive.changes (topic, post_key) SELECT DISTINCT o.topic, o.post_key FROM old_rows AS o;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO archive.changes (topic, post_key) SELECT DISTINCT n.topic, n.post_key FROM new_rows AS n;
        END IF;
        RETURN NULL;
    END
    $$;
COMMENT ON FUNCTION archive.log_membership_changes() IS 'Trigger: log the memberships (topic, post) a statement on archive.post_topics touched';

-- Log the topics a statement on topics touched.
CREATE FUNCTION archive.log_topic_changes() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            INSERT INTO archive.changes (topic) SELECT DISTINCT o.slug FROM old_rows AS o;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            INSERT INTO archive.changes (topic) SELECT DISTINCT n.slug FROM new_rows AS n;
        END IF;
        RETURN NULL;
    END
    $$;
COMMENT ON FUNCTION archive.log_topic_changes() IS 'Trigger: log the topics a statement on archive.topics touched';

-- Log that everything must be recomputed (truncate, filler words).
CREATE FUNCTION archive.log_everything_changed() RETURNS trigger
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        INSERT INTO archive.changes (everything) VALUES (true);
        RETURN NULL;
    END
    $$;
COMMENT ON FUNCTION archive.log_everything_changed() IS 'Trigger: log that every page must be recomputed';

CREATE TRIGGER log_inserts AFTER INSERT ON archive.posts
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_post_changes();
CREATE TRIGGER log_updates AFTER UPDATE ON archive.posts
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_post_changes();
CREATE TRIGGER log_deletes AFTER DELETE ON archive.posts
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_post_changes();
CREATE TRIGGER log_truncate AFTER TRUNCATE ON archive.posts
    FOR EACH STATEMENT EXECUTE FUNCTION archive.log_everything_changed();
CREATE TRIGGER log_inserts AFTER INSERT ON archive.topics
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_topic_changes();
CREATE TRIGGER log_updates AFTER UPDATE ON archive.topics
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_topic_changes();
CREATE TRIGGER log_deletes AFTER DELETE ON archive.topics
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_topic_changes();
CREATE TRIGGER log_truncate AFTER TRUNCATE ON archive.topics
    FOR EACH STATEMENT EXECUTE FUNCTION archive.log_everything_changed();
CREATE TRIGGER log_inserts AFTER INSERT ON archive.post_topics
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_membership_changes();
CREATE TRIGGER log_updates AFTER UPDATE ON archive.post_topics
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_membership_changes();
CREATE TRIGGER log_deletes AFTER DELETE ON archive.post_topics
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION archive.log_membership_changes();
CREATE TRIGGER log_truncate AFTER TRUNCATE ON archive.post_topics
    FOR EACH STATEMENT EXECUTE FUNCTION archive.log_everything_changed();
CREATE TRIGGER log_changes AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON archive.filler_words
    FOR EACH STATEMENT EXECUTE FUNCTION archive.log_everything_changed();

CREATE FUNCTION archive.refresh(full boolean DEFAULT false)
    RETURNS TABLE (mode text, topics_recomputed integer, posts_read bigint, elapsed interval)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- The page queries' estimated costs pass the JIT thresholds whatever the archive's
    -- size, and compiling them takes seconds, many times what running them takes.
    SET jit = off
    -- An incremental refresh reads a few thousand posts and memberships by key from
    -- tables a serving database keeps in memory; at the default random_page_cost (4)
    -- the planner read and hashed every post instead, a second per query at a million.
    SET random_page_cost = 1.1
    AS $$
    DECLARE
        started constant timestamptz := clock_timestamp();
        settings constant jsonb := archive.settings() - 'refresh_wait' - 'max_markdown_bytes' - 'progress_after'
            -- a new version of the extension may render pages differently: rebuild them all
            || jsonb_build_object('extension_version', (SELECT e.extversion FROM pg_extension AS e WHERE e.extname = 'archive'));
        -- Progress: each phase is named in this backend's application_name, which other
        -- sessions see in archive.refresh_progress, and reported with a NOTICE once the
        -- refresh has run archive.progress_after milliseconds (-1: never). The caller's
        -- application_name is put back before returning (set_config(..., true) would
        -- otherwise last until the end of the caller's transaction; an error undoes it).
        notice_after constant interval := CASE WHEN (archive.settings() ->> 'progress_after')::integer >= 0
            THEN (archive.settings() ->> 'progress_after')::integer * interval '1 millisecond' END;
        caller_name constant text := current_setting('application_name');
        phase text;
        state archive.refresh_state;
        read_ids bigint[];
        upto bigint;
        pair_topics text[];
        pair_months date[];
        whole_topics text[];
        changed_keys text[];
        added_topics text[];
        added_keys text[];
        resummarised_topics text[];
        resummarised_keys text[];
        dirty_months date[];
        catalog_tags jsonb;
        catalog_changed boolean;
        old_archive_tags jsonb;
        archive_tags_changed boolean := false;
        affected text[];
        posts_summarized bigint := 0;
        recomputed integer;
        assembled_topics text[];
        settled_topics text[];
        processes integer;
        group_queries text[];
        group_start integer;
        group_end integer;
        caller_compression constant text := current_setting('default_toast_compression');
        recompute_all boolean := $1;  -- the parameter "full" is a keyword inside PL/pgSQL
    BEGIN
        -- One refresh at a time; archive.refresh_wait decides whether a second waits.
        PERFORM set_config('application_name', 'archive refresh 1/5: waiting for a running refresh', true);
        IF current_setting('archive.refresh_wait')::boolean THEN
            PERFORM pg_advisory_xact_lock('archive.page_records'::regclass::oid::integer, 0);
        ELSIF NOT pg_try_advisory_xact_lock('archive.page_records'::regclass::oid::integer, 0) THEN
            PERFORM set_config('application_name', caller_name, true);
            RETURN QUERY SELECT 'skipped: another refresh is running'::text, 0, 0::bigint,
                                clock_timestamp() - started;
            RETURN;
        END IF;
        phase := 'reading changes';
        PERFORM set_config('application_name', 'archive refresh 2/5: ' || phase, true);
        IF clock_timestamp() - started >= notice_after THEN
            RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
        END IF;
        PERFORM archive.ensure_source();
        SELECT * INTO state FROM archive.refresh_state;
        SELECT array_agg(c.change_id), max(c.change_id) INTO read_ids, upto FROM archive.changes AS c;
        -- The topics and their tags now, against those of the last refresh; the refresh
        -- reads the catalog from here (with no topics defined, each read of the view
        -- counts every post's tags).
        SELECT coalesce(jsonb_object_agg(t.topic, t.tags), '{}') INTO catalog_tags FROM archive.topic_catalog AS t;
        catalog_changed := catalog_tags IS DISTINCT FROM
            (SELECT coalesce(jsonb_object_agg(r.topic, r.tags), '{}') FROM archive.refresh_catalog AS r);
        recompute_all := recompute_all OR state IS NULL OR state.settings IS DISTINCT FROM settings
                OR EXISTS (SELECT 1 FROM archive.source)
                OR EXISTS (SELECT 1 FROM archive.changes AS c WHERE c.change_id = ANY (read_ids) AND c.everything);

        IF recompute_all THEN
            phase := format('summarising %s topics', (SELECT count(*) FROM jsonb_object_keys(catalog_tags)));
            PERFORM set_config('application_name', 'archive refresh 3/5: ' || phase, true);
            IF clock_timestamp() - started >= notice_after THEN
                RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
            END IF;
            -- Straight into the table: through archive.summarize_topic_months the rows
            -- (half a gigabyte at a million posts) went through two tuplestores on disk,
            -- 39 s against 27 s.
            DELETE FROM archive.topic_months;
            EXECUTE 'INSERT INTO archive.topic_months ' || archive.topic_months_query('archive.topic_member_posts');
            phase := 'summarising the archive by month';
            PERFORM set_config('application_name', 'archive refresh 4/5: ' || phase, true);
            IF clock_timestamp() - started >= notice_after THEN
                RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
            END IF;
            DELETE FROM archive.archive_months;
            INSERT INTO archive.archive_months SELECT * FROM archive.summarize_archive_months();
            affected := NULL;
        ELSE
            -- (topic, month) pairs a changed post version was in, through tags or memberships,
            -- and those of a changed membership: its topic in the month of the post now and in
            -- the months of the post's changed versions
            SELECT array_agg(p.topic), array_agg(p.month) INTO pair_topics, pair_months
            FROM (WITH read AS MATERIALIZED (
                      SELECT c.* FROM archive.changes AS c JOIN unnest(read_ids) AS r(id) ON r.id = c.change_id
                  )
                  -- (joined tag by tag: testing every change's tags against every
                  -- topic's with && took 7 s for 1% of a million posts)
                  SELECT t.topic, c.month
                  FROM read AS c
                  CROSS JOIN LATERAL unnest(c.post_tags) AS pt(tag)
                  JOIN (SELECT k.topic, jsonb_array_elements_text(k.tags) AS tag
                        FROM jsonb_each(catalog_tags) AS k(topic, tags)) AS t
                    ON t.tag = pt.tag
                  WHERE c.topic IS NULL
                  UNION
                  SELECT pt.topic, c.month
                  FROM read AS c
                  JOIN archive.post_topics AS pt ON pt.post_key = c.post_key
                  WHERE c.topic IS NULL
                  UNION
                  SELECT c.topic, archive.month_of(p.published_at)
                  FROM read AS c
                  JOIN archive.public_posts AS p ON p.key = c.post_key
                  WHERE c.topic IS NOT NULL
                  UNION
                  SELECT c.topic, v.month
                  FROM read AS c
                  JOIN read AS v ON v.post_key = c.post_key AND v.topic IS NULL
                  WHERE c.topic IS NOT NULL) AS p;
            -- whole topics: changed topics (definitions), and topics new to the catalog or
            -- whose tags changed since the last refresh (an implicit topic's slug passes to
            -- another tag when tags sharing a slug change sizes)
            SELECT array_agg(DISTINCT w.topic) INTO whole_topics
            FROM (SELECT c.topic FROM archive.changes AS c
                  WHERE c.change_id = ANY (read_ids) AND c.topic IS NOT NULL AND c.post_key IS NULL
                  UNION
                  SELECT k.topic FROM jsonb_each(catalog_tags) AS k(topic, tags)
                  WHERE NOT EXISTS (SELECT 1 FROM archive.page_records AS r WHERE r.topic = k.topic)
                     OR NOT EXISTS (SELECT 1 FROM archive.refresh_catalog AS r
                                    WHERE r.topic = k.topic AND to_jsonb(r.tags) = k.tags)) AS w;
            -- Posts whose versions or memberships changed, and their memberships now in the
            -- pairs (whole topics are summarised apart).
            SELECT array_agg(DISTINCT c.post_key) INTO changed_keys
            FROM archive.changes AS c WHERE c.change_id = ANY (read_ids) AND c.post_key IS NOT NULL;
            SELECT array_agg(m.topic), array_agg(m.post_key) INTO added_topics, added_keys
            FROM archive.topic_member_posts AS m
            WHERE m.post_key = ANY (changed_keys)
              AND (m.topic, archive.month_of(m.published_at)) IN (SELECT * FROM unnest(pair_topics, pair_months))
              AND NOT (m.topic = ANY (coalesce(whole_topics, '{}')));
            -- The archive's tags changed in the months of a post's versions unless every logged
            -- version of it has its tags and month now, and an even number were logged: a post
            -- public before and after logs an old and a new version per statement (one that
            -- turned public, or stopped being, logs one), so it was public before the first.
            SELECT array_agg(DISTINCT m.month) INTO dirty_months
            FROM (SELECT array_agg(v.month) AS months
                  FROM archive.changes AS v
                  LEFT JOIN archive.public_posts AS p ON p.key = v.post_key
                  WHERE v.change_id = ANY (read_ids) AND v.topic IS NULL AND v.post_key IS NOT NULL
                  GROUP BY v.post_key
                  HAVING count(*) % 2 = 1
                      OR bool_or(p.key IS NULL OR v.month IS DISTINCT FROM archive.month_of(p.published_at)
                                 OR v.post_tags IS DISTINCT FROM p.tags)) AS u
            CROSS JOIN LATERAL unnest(u.months) AS m(month);

            phase := format('summarising %s topic-months, %s topics',
                            coalesce(cardinality(pair_topics), 0), coalesce(cardinality(whole_topics), 0));
            -- (application_name holds 63 bytes; a longer one is cut with a NOTICE)
            PERFORM set_config('application_name', left('archive refresh 3/5: ' || phase, 63), true);
            IF clock_timestamp() - started >= notice_after THEN
                RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
            END IF;
            -- (topics gone from the catalog only when it changed: finding them reads every
            -- topic month, 0.3 s at a million posts, where the whole topics are looked up)
            IF catalog_changed THEN
                DELETE FROM archive.topic_months AS tm
                WHERE tm.topic = ANY (whole_topics) OR NOT catalog_tags ? tm.topic;
            ELSE
                DELETE FROM archive.topic_months AS tm WHERE tm.topic = ANY (whole_topics);
            END IF;
            -- A pair's row is updated from the changed posts alone: the posts it listed that
            -- did not change are members as they were (a topic whose tags changed is summarised
            -- whole), so the new row is the stored one less the changed posts' old versions
            -- (their references in it) plus the changed posts that are members now.  Where a
            -- summary pruned, that is not exact, and the pair's members are summarised again.
            WITH pairs AS (
                SELECT DISTINCT x.topic, x.month
                FROM unnest(pair_topics, pair_months) AS x(topic, month)
                WHERE NOT (x.topic = ANY (coalesce(whole_topics, '{}')))
            ),
            old AS (
                DELETE FROM archive.topic_months AS tm USING pairs AS x
                WHERE tm.topic = x.topic AND tm.month = x.month
                RETURNING tm.*
            ),
            -- references_merge gives the new list (kept and added posts), its count and span,
            -- and the stored references it dropped: the changed posts' old versions, whose
            -- summaries come out of the stored ones
            merged AS (
                SELECT coalesce(o.topic, a.topic) AS topic, coalesce(o.month, a.month) AS month,
                       r.posts, r.span, r.merged AS refs,
                       archive.termcounts_union(k.tags, a.tags) AS tags,
                       archive.termcounts_union(k.titles, a.titles) AS titles,
                       o.topic IS NULL OR (k.tags IS NOT NULL AND k.titles IS NOT NULL) AS exact
                FROM old AS o
                FULL JOIN archive.summarize_memberships(added_topics, added_keys) AS a
                  ON a.topic = o.topic AND a.month = o.month
                CROSS JOIN LATERAL archive.references_merge(o.refs, changed_keys, a.refs) AS r
                CROSS JOIN LATERAL (
                    SELECT CASE WHEN d.tags IS NULL THEN o.tags ELSE archive.termcounts_subtract(o.tags, d.tags) END AS tags,
                           CASE WHEN d.titles IS NULL THEN o.titles ELSE archive.termcounts_subtract(o.titles, d.titles) END AS titles
                    FROM (SELECT archive.tag_counts_agg(ARRAY(SELECT jsonb_array_elements_text(e.ref -> 'tags'))) AS tags,
                                 archive.title_terms_agg(e.ref ->> 'title') AS titles
                          FROM jsonb_array_elements(r.dropped) AS e(ref)) AS d
                    OFFSET 0  -- (each subtraction once: k's columns are read twice)
                ) AS k
            ),
            updated AS (
                INSERT INTO archive.topic_months
                SELECT m.topic, m.month, m.posts, m.span, m.tags, m.titles, m.refs
                FROM merged AS m WHERE m.exact AND m.posts > 0
                RETURNING topic, month
            ),
            -- The pairs left unwritten: no post is left, or the old posts could not be taken
            -- out exactly.  Their members now are summarised again: the stored posts that did
            -- not change, and the changed posts that are members now.  (Read from old and the
            -- memberships, not from merged: read twice, merged was kept whole, every month's
            -- new reference list, and spilled to disk, 12% of this step at a million posts.)
            unwritten AS (
                SELECT x.topic, x.month FROM pairs AS x
                WHERE NOT EXISTS (SELECT 1 FROM updated AS u WHERE u.topic = x.topic AND u.month = x.month)
            )
            SELECT array_agg(k.topic), array_agg(k.key) INTO resummarised_topics, resummarised_keys
            FROM (SELECT o.topic, e.ref ->> 'key' AS key
                  FROM unwritten AS w
                  JOIN old AS o ON o.topic = w.topic AND o.month = w.month
                  CROSS JOIN LATERAL jsonb_array_elements(o.refs) AS e(ref)
                  WHERE NOT (e.ref ->> 'key' = ANY (changed_keys))
                  UNION ALL
                  SELECT a.topic, a.key
                  FROM unnest(added_topics, added_keys) AS a(topic, key)
                  JOIN archive.public_posts AS p ON p.key = a.key
                  JOIN unwritten AS w ON w.topic = a.topic AND w.month = archive.month_of(p.published_at)) AS k;
            IF resummarised_topics IS NOT NULL THEN
                INSERT INTO archive.topic_months
                SELECT * FROM archive.summarize_memberships(resummarised_topics, resummarised_keys);
            END IF;
            IF whole_topics IS NOT NULL THEN
                EXECUTE 'INSERT INTO archive.topic_months '
                        || archive.topic_months_query('(SELECT * FROM archive.topic_member_posts AS m
                                                        WHERE m.topic = ANY ($1))')
                    USING whole_topics;
            END IF;
            phase := format('summarising %s archive months', coalesce(cardinality(dirty_months), 0));
            PERFORM set_config('application_name', 'archive refresh 4/5: ' || phase, true);
            IF clock_timestamp() - started >= notice_after THEN
                RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
            END IF;
            IF dirty_months IS NOT NULL THEN
                old_archive_tags := (SELECT coalesce(jsonb_object_agg(am.month, am.tags::text), '{}')
                                     FROM archive.archive_months AS am WHERE am.month = ANY (dirty_months));
                DELETE FROM archive.archive_months WHERE month = ANY (dirty_months);
                INSERT INTO archive.archive_months SELECT * FROM archive.summarize_archive_months(dirty_months);
                archive_tags_changed := old_archive_tags IS DISTINCT FROM
                    (SELECT coalesce(jsonb_object_agg(am.month, am.tags::text), '{}')
                     FROM archive.archive_months AS am WHERE am.month = ANY (dirty_months));
            END IF;
            -- lift depends on the whole archive's tags, and with archive.topic_url set an
            -- adjacent thread links to the topic that carries its tag: when either changed,
            -- every page is reassembled (changed titles alone touch only their topics)
            affected := CASE WHEN archive_tags_changed
                               OR (catalog_changed AND current_setting('archive.topic_url', true) <> '')
                             THEN NULL
                             ELSE coalesce(pair_topics, '{}') || coalesce(whole_topics, '{}') END;
        END IF;
        -- the posts read: those of the archive months summarised, and in other months those
        -- summarised into topic months (changed posts, pairs summarised again, whole topics)
        posts_summarized := (SELECT coalesce(sum(archive.rows(am.tags)), 0) FROM archive.archive_months AS am
                             WHERE recompute_all OR am.month = ANY (dirty_months))
            + CASE WHEN recompute_all THEN 0
                   ELSE (SELECT count(DISTINCT k.key)
                         FROM (SELECT p.key
                               FROM archive.public_posts AS p
                               WHERE p.key = ANY (added_keys || resummarised_keys)
                                 AND NOT (archive.month_of(p.published_at) = ANY (coalesce(dirty_months, '{}')))
                               UNION ALL
                               SELECT r.ref ->> 'key'
                               FROM archive.topic_months AS tm
                               CROSS JOIN LATERAL jsonb_array_elements(tm.refs) AS r(ref)
                               WHERE tm.topic = ANY (whole_topics)
                                 AND NOT (tm.month = ANY (coalesce(dirty_months, '{}')))) AS k) END;
        phase := format('assembling %s pages', CASE WHEN affected IS NULL
                                                    THEN (SELECT count(*) FROM jsonb_object_keys(catalog_tags))
                                                    ELSE (SELECT count(DISTINCT a) FROM unnest(affected) AS a) END);
        PERFORM set_config('application_name', 'archive refresh 5/5: ' || phase, true);
        IF clock_timestamp() - started >= notice_after THEN
            RAISE NOTICE 'archive refresh, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
        END IF;

        -- The pages are assembled and rendered in parallel: the topics, dealt largest first
        -- into one group per process (this backend and max_parallel_workers_per_gather
        -- workers, a process for ten pages at least), are one archive.page_figures call
        -- each, run side by side under a Parallel Append.  A statement that writes cannot
        -- run in parallel, but CREATE TABLE AS can: the pages go through a temporary
        -- table, compressed with lz4 where the server has it (a value keeps the compression
        -- it was first written with).  (Figures and rendering of 2,000 pages at a million
        -- posts: 7.8 s in one call, 4.7 s in two at once.)  A full refresh renders every
        -- page again (the renderer may have changed) but rewrites only the pages whose
        -- record, rendering or tag summary differs; an incremental one renders only the
        -- pages whose record or tag summary changed.
        SELECT coalesce(array_agg(k.topic ORDER BY coalesce(r.post_count, 0) DESC, k.topic), '{}')
        INTO assembled_topics
        FROM (SELECT DISTINCT a.topic
              FROM unnest(coalesce(affected, ARRAY(SELECT jsonb_object_keys(catalog_tags)))) AS a(topic)
              WHERE catalog_tags ? a.topic) AS k
        LEFT JOIN archive.page_records AS r ON r.topic = k.topic;
        -- A page whose topic's months did not change (the archive's tags did, or the topic
        -- pages it links to) takes their span, tag union and motifs from its stored page:
        -- merging every month of 2,000 topics took twice the time of the rest of their pages.
        settled_topics := CASE WHEN recompute_all OR affected IS NOT NULL THEN '{}'
                               ELSE ARRAY(SELECT t.topic FROM unnest(assembled_topics) AS t(topic)
                                          WHERE NOT (t.topic = ANY (coalesce(pair_topics, '{}') || coalesce(whole_topics, '{}')))) END;
        processes := greatest(1, least(current_setting('max_parallel_workers_per_gather')::integer + 1,
                                       ceil(cardinality(assembled_topics) / 10.0)::integer));
        -- group g: the topics g + 1, g + 1 + processes, ... of that order, ceil((n - g) / processes)
        assembled_topics := ARRAY(SELECT t.topic FROM unnest(assembled_topics) WITH ORDINALITY AS t(topic, n)
                                  ORDER BY (t.n - 1) % processes, t.n);
        group_queries := '{}';
        group_start := 1;
        FOR g IN 0 .. processes - 1 LOOP
            group_end := group_start + (cardinality(assembled_topics) - g + processes - 1) / processes - 1;
            group_queries := group_queries || format(
                'SELECT f.topic, f.span, f.tags, f.record, r.prose, r.markdown, r.html
                 FROM archive.page_figures($1[%s:%s], $3) AS f
                 LEFT JOIN archive.page_records AS old ON old.topic = f.topic
                 CROSS JOIN LATERAL archive.page_render(f.record) AS r
                 WHERE $2 OR old.record IS DISTINCT FROM f.record
                    OR archive.termcounts_send(old.tags) IS DISTINCT FROM archive.termcounts_send(f.tags)',
                group_start, group_end);
            group_start := group_end + 1;
        END LOOP;
        BEGIN
            PERFORM set_config('default_toast_compression', 'lz4', true);
        EXCEPTION WHEN invalid_parameter_value THEN
            NULL;  -- a server built without lz4 keeps its default
        END;
        EXECUTE 'CREATE TEMPORARY TABLE archive_assembled_pages ON COMMIT DROP AS '
                || array_to_string(group_queries, ' UNION ALL ')
            USING assembled_topics, recompute_all, settled_topics;
        PERFORM set_config('default_toast_compression', caller_compression, true);
        WITH upserted AS (
            INSERT INTO archive.page_records AS p
            SELECT c.topic, c.record ->> 'name', (c.record ->> 'post_count')::bigint,
                   (c.record ->> 'first_published')::timestamptz,
                   (c.record ->> 'last_published')::timestamptz,
                   c.span,
                   ARRAY(SELECT e ->> 'term' FROM jsonb_array_elements(c.record -> 'adjacent_tags') AS e),
                   c.record -> 'adjacent_tags',
                   ARRAY(SELECT e ->> 'term' FROM jsonb_array_elements(c.record -> 'title_motifs') AS e),
                   c.record -> 'title_motifs',
                   ARRAY(SELECT e ->> 'term' FROM jsonb_array_elements(c.record -> 'early_motifs') AS e),
                   ARRAY(SELECT e ->> 'term' FROM jsonb_array_elements(c.record -> 'recent_motifs') AS e),
                   c.prose -> 'reading_path',
                   c.record -> 'references',
                   c.prose ->> 'definition',
                   ARRAY(SELECT jsonb_array_elements_text(c.prose -> 'claims')),
                   ARRAY(SELECT jsonb_array_elements_text(c.prose -> 'advice')),
                   ARRAY(SELECT jsonb_array_elements_text(c.prose -> 'pitfalls')),
                   c.record,
                   c.markdown,
                   c.html,
                   started,
                   coalesce(upto, state.last_change_id, 0),
                   c.tags
            FROM pg_temp.archive_assembled_pages AS c
            LEFT JOIN archive.page_records AS old ON old.topic = c.topic
            WHERE old.record IS DISTINCT FROM c.record OR old.markdown IS DISTINCT FROM c.markdown
               OR old.html IS DISTINCT FROM c.html
               OR archive.termcounts_send(old.tags) IS DISTINCT FROM archive.termcounts_send(c.tags)
            ON CONFLICT (topic) DO UPDATE SET
                name = excluded.name, post_count = excluded.post_count,
                first_published = excluded.first_published, last_published = excluded.last_published,
                span = excluded.span, adjacent_tags = excluded.adjacent_tags,
                adjacent_scores = excluded.adjacent_scores, title_motifs = excluded.title_motifs,
                motif_scores = excluded.motif_scores, early_motifs = excluded.early_motifs,
                recent_motifs = excluded.recent_motifs, reading_path = excluded.reading_path,
                "references" = excluded."references", definition = excluded.definition,
                claims = excluded.claims, advice = excluded.advice, pitfalls = excluded.pitfalls,
                record = excluded.record, markdown = excluded.markdown, html = excluded.html,
                refreshed_at = excluded.refreshed_at, change_id = excluded.change_id, tags = excluded.tags
            RETURNING 1
        ),
        removed AS (
            DELETE FROM archive.page_records AS p
            WHERE NOT catalog_tags ? p.topic
        )
        SELECT count(*) INTO recomputed FROM upserted;
        DROP TABLE pg_temp.archive_assembled_pages;  -- (a failed refresh's goes with its rollback)

        DELETE FROM archive.changes AS c WHERE c.change_id = ANY (read_ids);
        IF catalog_changed THEN
            DELETE FROM archive.refresh_catalog;
            INSERT INTO archive.refresh_catalog (topic, tags)
            SELECT k.topic, ARRAY(SELECT jsonb_array_elements_text(k.tags)) FROM jsonb_each(catalog_tags) AS k(topic, tags);
        END IF;
        INSERT INTO archive.refresh_state AS s (last_change_id, settings, refreshed_at, mode)
        VALUES (coalesce(upto, state.last_change_id, 0), settings, started,
                CASE WHEN recompute_all THEN 'full' ELSE 'incremental' END)
        ON CONFLICT (singleton) DO UPDATE
            SET last_change_id = excluded.last_change_id, settings = excluded.settings,
                refreshed_at = excluded.refreshed_at, mode = excluded.mode;
        IF clock_timestamp() - started >= notice_after THEN
            RAISE NOTICE 'archive refresh, % s: done, % pages rewritten from % posts',
                round(extract(epoch FROM clock_timestamp() - started), 1), recomputed, posts_summarized;
        END IF;
        PERFORM set_config('application_name', caller_name, true);
        RETURN QUERY SELECT CASE WHEN recompute_all THEN 'full' ELSE 'incremental' END, recomputed,
                            posts_summarized, clock_timestamp() - started;
    END
    $$;
COMMENT ON FUNCTION archive.refresh(boolean) IS
    'Bring every topic page up to date, recomputing only what logged changes touched (or everything with full => true); returns the mode, the pages rewritten, the posts summarised and the time spent. Its phase shows in archive.refresh_progress, and as NOTICEs past archive.progress_after';

CREATE VIEW archive.refresh_status WITH (security_invoker) AS
SELECT s.refreshed_at AS last_refresh, s.mode AS last_mode, s.last_change_id,
       (SELECT count(*) FROM archive.changes) AS pending_changes,
       (SELECT min(c.changed_at) FROM archive.changes AS c) AS oldest_pending,
       CASE WHEN EXISTS (SELECT 1 FROM archive.changes)
            THEN pg_catalog.now() - (SELECT min(c.changed_at) FROM archive.changes AS c)
            ELSE interval '0' END AS staleness,
       (SELECT count(*) FROM archive.page_records) AS pages
FROM (SELECT * FROM archive.refresh_state
      UNION ALL
      SELECT NULL, NULL, NULL, NULL, 'never' WHERE NOT EXISTS (SELECT 1 FROM archive.refresh_state)) AS s;
COMMENT ON VIEW archive.refresh_status IS
    'How stale the pages are: the last refresh, the changes still pending and how long the oldest has waited';
COMMENT ON COLUMN archive.refresh_status.last_refresh IS 'Start of the last refresh; NULL when there was none';
COMMENT ON COLUMN archive.refresh_status.last_mode IS 'full, incremental, or never';
COMMENT ON COLUMN archive.refresh_status.last_change_id IS 'Last change the pages reflect';
COMMENT ON COLUMN archive.refresh_status.pending_changes IS 'Changes logged since, not yet applied';
COMMENT ON COLUMN archive.refresh_status.oldest_pending IS 'When the oldest pending change was made';
COMMENT ON COLUMN archive.refresh_status.staleness IS 'How long the oldest pending change has waited; 0 when none';
COMMENT ON COLUMN archive.refresh_status.pages IS 'Topic pages stored';

-- Refreshes and loads name their phase in their backend's application_name
-- ("archive refresh 3/5: summarising ..."), which every session sees at once.
CREATE VIEW archive.refresh_progress WITH (security_invoker) AS
SELECT a.pid, a.datname AS database, a.usename AS username,
       m[1] AS operation, m[2]::integer AS step, m[3]::integer AS steps, m[4] AS phase,
       a.query_start AS started, pg_catalog.clock_timestamp() - a.query_start AS elapsed,
       a.wait_event_type, a.wait_event
FROM pg_catalog.pg_stat_activity AS a
CROSS JOIN LATERAL pg_catalog.regexp_match(a.application_name,
                                           '^archive (refresh|load) ([0-9]+)/([0-9]+): (.*)$') AS m
WHERE m IS NOT NULL;
COMMENT ON VIEW archive.refresh_progress IS
    'Refreshes and loads running now, in any session and database: the phase each is in (step of steps) and how long its statement has run';
COMMENT ON COLUMN archive.refresh_progress.pid IS 'Process id of the backend doing the work';
COMMENT ON COLUMN archive.refresh_progress.database IS 'Its database';
COMMENT ON COLUMN archive.refresh_progress.username IS 'Its user';
COMMENT ON COLUMN archive.refresh_progress.operation IS 'refresh (archive.refresh) or load (archive.load_jsonl)';
COMMENT ON COLUMN archive.refresh_progress.step IS 'Number of the phase it is in';
COMMENT ON COLUMN archive.refresh_progress.steps IS 'Number of phases of the operation';
COMMENT ON COLUMN archive.refresh_progress.phase IS 'What it is doing, with counts';
COMMENT ON COLUMN archive.refresh_progress.started IS 'When the statement that runs it began';
COMMENT ON COLUMN archive.refresh_progress.elapsed IS 'How long that statement has run';
COMMENT ON COLUMN archive.refresh_progress.wait_event_type IS 'Type of what it waits for, if it waits (Lock while another refresh runs)';
COMMENT ON COLUMN archive.refresh_progress.wait_event IS 'What it waits for, if it waits';

CREATE FUNCTION archive.purge_refresh_runs(keep interval DEFAULT '7 days') RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        purged bigint;
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
            RAISE EXCEPTION 'purging the refresh runs needs the pg_cron extension'
                USING ERRCODE = 'feature_not_supported';
        END IF;
        DELETE FROM cron.job_run_details AS d
        USING cron.job AS j
        WHERE j.jobid = d.jobid AND j.jobname = 'archive-refresh'
          AND d.end_time < pg_catalog.now() - keep;
        GET DIAGNOSTICS purged = ROW_COUNT;
        RETURN purged;
    END
    $$;
COMMENT ON FUNCTION archive.purge_refresh_runs(interval) IS
    'Delete the scheduled refresh''s run log (cron.job_run_details) older than keep; the scheduled job calls it after each refresh';

CREATE FUNCTION archive.schedule_refresh(schedule text DEFAULT '*/10 * * * *',
                                         keep_runs interval DEFAULT '7 days')
    RETURNS bigint
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        command constant text := format(
            'SELECT archive.refresh(); SELECT archive.purge_refresh_runs(%L::interval)', keep_runs);
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
            RAISE EXCEPTION 'scheduling the refresh needs the pg_cron extension'
                USING ERRCODE = 'feature_not_supported',
                      HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name, restart, '
                             'then CREATE EXTENSION pg_cron; or run SELECT archive.refresh() from any scheduler.';
        END IF;
        IF current_database() = current_setting('cron.database_name', true) THEN
            RETURN cron.schedule('archive-refresh', schedule, command);
        END IF;
        RETURN cron.schedule_in_database('archive-refresh', schedule, command, current_database());
    END
    $$;
COMMENT ON FUNCTION archive.schedule_refresh(text, interval) IS
    'Create or replace the pg_cron job "archive-refresh" that runs archive.refresh() on a schedule and keeps its run log to keep_runs';

CREATE FUNCTION archive.unschedule_refresh() RETURNS boolean
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    BEGIN
        IF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_cron') THEN
            RAISE EXCEPTION 'unscheduling the refresh needs the pg_cron extension'
                USING ERRCODE = 'feature_not_supported';
        END IF;
        IF NOT EXISTS (SELECT 1 FROM cron.job WHERE jobname = 'archive-refresh') THEN
            RETURN false;
        END IF;
        RETURN cron.unschedule('archive-refresh');
    END
    $$;
COMMENT ON FUNCTION archive.unschedule_refresh() IS 'Remove the pg_cron job "archive-refresh"; false when there was none';

CREATE FUNCTION archive.topic_markdown(topic text) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT markdown FROM archive.page_records AS p WHERE p.topic = topic_markdown.topic $$;
COMMENT ON FUNCTION archive.topic_markdown(text) IS
    'The topic''s page as Markdown, as of the last refresh; NULL for an unknown topic';

CREATE FUNCTION archive.topic_html(topic text) RETURNS text
    LANGUAGE sql STABLE STRICT PARALLEL SAFE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT html FROM archive.page_records AS p WHERE p.topic = topic_html.topic $$;
COMMENT ON FUNCTION archive.topic_html(text) IS
    'The topic''s page as a standalone HTML document, as of the last refresh; NULL for an unknown topic';

-- ===========================================================================
-- Loading JSON Lines (from psql: \set lines `cat posts.jsonl`
--                                SELECT * FROM archive.load_jsonl(:'lines');)
-- ===========================================================================

CREATE FUNCTION archive.post_from_json(line text, default_visibility archive.visibility,
                                       OUT post archive.posts, OUT problem text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        doc jsonb;
    BEGIN
        BEGIN
            doc := line::jsonb;
        EXCEPTION WHEN others THEN
            problem := 'not JSON: ' || SQLERRM;
            RETURN;
        END;
        IF jsonb_typeof(doc) IS DISTINCT FROM 'object' THEN
            problem := 'not a JSON object';
        ELSIF coalesce(btrim(coalesce(doc ->> 'key', doc ->> 'url')), '') = '' THEN
            problem := 'no url (or key) to identify the post';
        ELSIF coalesce(btrim(doc ->> 'title'), '') = '' THEN
            problem := 'no title';
        ELSIF jsonb_typeof(doc -> 'tags') NOT IN ('array', 'null')
              OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof(doc -> 'tags') WHEN 'array' THEN doc -> 'tags' END) AS e
                         WHERE jsonb_typeof(e) <> 'string') THEN
            problem := 'tags is not an array of strings';
        ELSIF jsonb_typeof(doc -> 'authors') NOT IN ('array', 'null')
              OR EXISTS (SELECT 1 FROM jsonb_array_elements(CASE jsonb_typeof(doc -> 'authors') WHEN 'array' THEN doc -> 'authors' END) AS e
                         WHERE jsonb_typeof(e) <> 'string') THEN
            problem := 'authors is not an array of strings';
        ELSIF doc ->> 'visibility' IS NOT NULL AND doc ->> 'visibility' NOT IN ('public', 'draft', 'private') THEN
            problem := 'visibility is not public, draft or private';
        END IF;
        IF problem IS NOT NULL THEN
            RETURN;
        END IF;
        BEGIN
            post.published_at := (doc ->> 'published_at')::timestamptz;
            IF isfinite(post.published_at) IS FALSE THEN
                problem := 'published_at is not a finite time';
                RETURN;
            END IF;
        EXCEPTION WHEN others THEN
            problem := 'published_at is not a time: ' || SQLERRM;
            RETURN;
        END;
        post.key := btrim(coalesce(doc ->> 'key', doc ->> 'url'));
        post.url := doc ->> 'url';
        post.slug := doc ->> 'slug';
        post.title := doc ->> 'title';
        post.summary := doc ->> 'summary';
        post.tags := coalesce(ARRAY(SELECT jsonb_array_elements_text(CASE jsonb_typeof(doc -> 'tags') WHEN 'array' THEN doc -> 'tags' END)), '{}');
        post.authors := coalesce(ARRAY(SELECT jsonb_array_elements_text(CASE jsonb_typeof(doc -> 'authors') WHEN 'array' THEN doc -> 'authors' END)), '{}');
        post.body_markdown := doc ->> 'body_markdown';
        post.visibility := coalesce((doc ->> 'visibility')::archive.visibility, default_visibility);
        post.updated_at := now();
    END
    $$;
COMMENT ON FUNCTION archive.post_from_json(text, archive.visibility) IS
    'One JSON Lines post as an archive.posts row, or the reason it cannot be one';

CREATE FUNCTION archive.load_jsonl(lines text, default_visibility archive.visibility DEFAULT 'public')
    RETURNS TABLE (outcome text, posts bigint, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        started constant timestamptz := clock_timestamp();
        -- Progress, as in archive.refresh: the phase in application_name for other
        -- sessions (archive.refresh_progress), NOTICEs past archive.progress_after.
        notice_after constant interval := CASE WHEN (archive.settings() ->> 'progress_after')::integer >= 0
            THEN (archive.settings() ->> 'progress_after')::integer * interval '1 millisecond' END;
        caller_name constant text := current_setting('application_name');
        phase constant text := format('parsing and storing %s lines',
                                      regexp_count(lines, E'\n') + (lines !~ E'\n$')::integer);
        returned bigint;
    BEGIN
        PERFORM set_config('application_name', 'archive load 1/1: ' || phase, true);
        IF clock_timestamp() - started >= notice_after THEN
            RAISE NOTICE 'archive load, % s: %', round(extract(epoch FROM clock_timestamp() - started), 1), phase;
        END IF;
        RETURN QUERY
        WITH parsed AS MATERIALIZED (
            SELECT l.n, (archive.post_from_json(l.line, default_visibility)).*
            FROM regexp_split_to_table(lines, E'\r?\n') WITH ORDINALITY AS l(line, n)
            WHERE btrim(l.line) <> ''
        ),
        latest AS MATERIALIZED (
            SELECT p.*, max(p.n) OVER (PARTITION BY (p.post).key) AS last_n
            FROM parsed AS p
            WHERE p.problem IS NULL
        ),
        upserted AS (
            INSERT INTO archive.posts AS old
            SELECT (l.post).* FROM latest AS l WHERE l.n = l.last_n
            ON CONFLICT (key) DO UPDATE SET
                url = excluded.url, slug = excluded.slug, title = excluded.title,
                summary = excluded.summary, published_at = excluded.published_at,
                tags = excluded.tags, authors = excluded.authors,
                body_markdown = excluded.body_markdown, visibility = excluded.visibility,
                updated_at = excluded.updated_at
            WHERE (old.url, old.slug, old.title, old.summary, old.published_at, old.tags,
                   old.authors, old.body_markdown, old.visibility)
                  IS DISTINCT FROM
                  (excluded.url, excluded.slug, excluded.title, excluded.summary, excluded.published_at,
                   excluded.tags, excluded.authors, excluded.body_markdown, excluded.visibility)
            RETURNING (old.xmax = 0) AS added
        ),
        counts AS (
            SELECT count(*) FILTER (WHERE u.added) AS added, count(*) FILTER (WHERE NOT u.added) AS updated
            FROM upserted AS u
        )
        SELECT 'added', c.added, NULL::text FROM counts AS c
        UNION ALL
        SELECT 'updated', c.updated, NULL FROM counts AS c
        UNION ALL
        SELECT 'unchanged', (SELECT count(*) FROM latest AS l WHERE l.n = l.last_n) - c.added - c.updated, NULL
        FROM counts AS c
        UNION ALL
        SELECT 'rejected', 1, format('line %s: %s', r.n, r.reason)
        FROM (SELECT p.n, p.problem AS reason FROM parsed AS p WHERE p.problem IS NOT NULL
              UNION ALL
              SELECT l.n, format('same key as line %s, which replaces it', l.last_n)
              FROM latest AS l WHERE l.n <> l.last_n) AS r;
        GET DIAGNOSTICS returned = ROW_COUNT;
        PERFORM set_config('application_name', caller_name, true);
        IF clock_timestamp() - started >= notice_after THEN
            RAISE NOTICE 'archive load, % s: done, % rejected lines', round(extract(epoch FROM clock_timestamp() - started), 1), returned - 3;
        END IF;
    END
    $$;
COMMENT ON FUNCTION archive.load_jsonl(text, archive.visibility) IS
    'Load posts from JSON Lines text into archive.posts (by key, else url); reports how many were added, updated, unchanged, and each rejected line with its reason. Shows in archive.refresh_progress while it runs';

CREATE FUNCTION archive.load_topics_jsonl(lines text)
    RETURNS TABLE (outcome text, topics bigint, detail text)
    LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    AS $$
    DECLARE
        line record;
        doc jsonb;
        loaded bigint := 0;
    BEGIN
        FOR line IN SELECT l.line, l.n FROM regexp_split_to_table(lines, E'\r?\n') WITH ORDINALITY AS l(line, n)
                    WHERE btrim(l.line) <> '' LOOP
            BEGIN
                doc := line.line::jsonb;
                INSERT INTO archive.topics AS t (slug, name, lens, through_line, advice, pitfalls, tags)
                VALUES (doc ->> 'slug', doc ->> 'name', doc ->> 'lens', doc ->> 'through_line',
                        coalesce(ARRAY(SELECT jsonb_array_elements_text(coalesce(doc -> 'advice', '[]'))), '{}'),
                        coalesce(ARRAY(SELECT jsonb_array_elements_text(coalesce(doc -> 'pitfalls', '[]'))), '{}'),
                        coalesce(ARRAY(SELECT jsonb_array_elements_text(coalesce(doc -> 'tags', '[]'))), '{}'))
                ON CONFLICT (slug) DO UPDATE SET
                    name = excluded.name, lens = excluded.lens, through_line = excluded.through_line,
                    advice = excluded.advice, pitfalls = excluded.pitfalls, tags = excluded.tags;
                loaded := loaded + 1;
            EXCEPTION WHEN others THEN
                RETURN QUERY SELECT 'rejected'::text, 1::bigint, format('line %s: %s', line.n, SQLERRM);
            END;
        END LOOP;
        RETURN QUERY SELECT 'loaded'::text, loaded, NULL::text;
    END
    $$;
COMMENT ON FUNCTION archive.load_topics_jsonl(text) IS
    'Load topics (slug, name, lens, through_line, advice, pitfalls, tags) from JSON Lines text, by slug; reports rejected lines';
