-- Officers' names are personal data, kept here and never in events: a network's events
-- carry only the officer record id, so erasing a row removes the person without rewriting
-- history (the registry then shows the office with `{"erased": true}`).
CREATE TABLE officer_personal_data (
    officer_id uuid PRIMARY KEY,
    network_id uuid        NOT NULL,
    first_name text        NOT NULL,
    last_name  text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX officer_personal_data_by_network ON officer_personal_data (network_id);
