-- The peer of `cargo bench --bench peer`: a plain normalized schema for a four-question form
-- (NPS, CSAT, CES, a comment) and one SQL function that stores a response with its answers.
-- PostGraphile exposes the function as the `submitResponse` mutation; pgbench calls it directly
-- (the raw ceiling). Run on an empty database.
CREATE SCHEMA peer;

CREATE TABLE peer.forms (
    id integer PRIMARY KEY,
    title text NOT NULL
);

CREATE TABLE peer.responses (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    form_id integer NOT NULL REFERENCES peer.forms (id),
    submitted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX responses_form_submitted ON peer.responses (form_id, submitted_at);

CREATE TABLE peer.answers (
    response_id bigint NOT NULL REFERENCES peer.responses (id),
    question text NOT NULL,
    number integer,
    text text,
    PRIMARY KEY (response_id, question)
);

INSERT INTO peer.forms (id, title) VALUES (1, 'Store feedback');

-- One response with its four answers, in one statement.
CREATE FUNCTION peer.submit_response(form_id integer, nps integer, csat integer, ces integer, comment text)
RETURNS peer.responses
LANGUAGE sql VOLATILE
AS $$
    WITH response AS (
        INSERT INTO peer.responses (form_id) VALUES (submit_response.form_id) RETURNING *
    ), answers AS (
        INSERT INTO peer.answers (response_id, question, number, text)
        SELECT response.id, a.question, a.number, a.text
        FROM response, (VALUES ('nps', nps, NULL), ('csat', csat, NULL), ('ces', ces, NULL),
                               ('comment', NULL, comment)) AS a (question, number, text)
    )
    SELECT * FROM response;
$$;
