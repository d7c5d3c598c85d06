-- Missed-bin reports from the council's CRM and FixMyStreet-style portals (Open311 GeoReport v2),
-- kept apart from the personal data of whoever reported them.
--
--   missed_reports   the report itself: which household, stream and collection, what was said
--                    (minimised), its Open311 status and Kerbside's verdict on it. No personal data.
--   report_contacts  who reported it (name, email, phone, CRM account, device). Erasable on request
--                    without touching the report, so KPIs and aggregates stay whole.
--   report_updates   every status change or new note, for the update feed that CRMs poll
--                    (FixMyStreet's GET servicerequestupdates extension).

CREATE TABLE missed_reports (
  report_id                 bigserial PRIMARY KEY,          -- Open311 service_request_id
  service_code              text NOT NULL,                  -- missed_<stream>
  stream                    text NOT NULL CHECK (stream IN ('residual', 'recycling', 'garden', 'food', 'glass')),
  uprn                      bigint NOT NULL REFERENCES households (uprn),
  -- The collection the report is about (its due date), when the reporter gave it or it could be
  -- inferred from the calendar (the latest due collection of that stream on or before the report).
  collection_date           date,
  collection_date_inferred  boolean NOT NULL DEFAULT false,
  -- How the household was identified: by UPRN (address_id / attribute[uprn]) or as the nearest
  -- household to the reporter's lat/long, and how far that was. The reporter's own position is
  -- not kept.
  located_by                text NOT NULL CHECK (located_by IN ('uprn', 'latlong')),
  located_distance_m        double precision CHECK (located_distance_m >= 0),
  -- Free text, minimised before it is stored (trimmed, contact details removed, length-capped).
  description               text CHECK (length(description) <= 1000),
  bin_location_note         text CHECK (length(bin_location_note) <= 200),
  media_url                 text CHECK (length(media_url) <= 2048),
  agency_responsible        text,
  -- Open311 status: open or closed, with notes and the expected return collection.
  status                    text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
  status_notes              text,
  service_notice            text,
  expected_datetime         timestamptz,
  -- Kerbside's verdict, decided from the evidence by the collection-outcome analysis.
  validity                  text NOT NULL DEFAULT 'pending' CHECK (validity IN ('pending', 'valid', 'invalid')),
  invalid_reason            text,
  verdict                   jsonb,
  assessed_at               timestamptz,
  -- Who filed it (api_keys.key_id, or 'bootstrap'), and the client's Idempotency-Key if it sent one.
  source                    text NOT NULL,
  idempotency_key           text CHECK (length(idempotency_key) <= 200),
  requested_at              timestamptz NOT NULL DEFAULT now(),
  updated_at                timestamptz NOT NULL DEFAULT now(),
  closed_at                 timestamptz,
  CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
  CHECK (validity <> 'invalid' OR invalid_reason IS NOT NULL)
);
CREATE UNIQUE INDEX missed_reports_idempotency_idx ON missed_reports (source, idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX missed_reports_requested_idx ON missed_reports (requested_at);
CREATE INDEX missed_reports_uprn_idx ON missed_reports (uprn, stream, requested_at);
CREATE INDEX missed_reports_open_idx ON missed_reports (status, validity) WHERE status = 'open';

CREATE TABLE report_contacts (
  report_id   bigint PRIMARY KEY REFERENCES missed_reports (report_id) ON DELETE CASCADE,
  first_name  text,
  last_name   text,
  email       text,
  phone       text,
  account_id  text,
  device_id   text,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE report_updates (
  update_id   bigserial PRIMARY KEY,
  report_id   bigint NOT NULL REFERENCES missed_reports (report_id) ON DELETE CASCADE,
  status      text NOT NULL CHECK (status IN ('open', 'closed')),
  notes       text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX report_updates_at_idx ON report_updates (at, update_id);
CREATE INDEX report_updates_report_idx ON report_updates (report_id, at);

-- Reports located by lat/long look for the nearest household inside a small box first.
CREATE INDEX IF NOT EXISTS households_lat_lon_idx ON households (lat, lon);
