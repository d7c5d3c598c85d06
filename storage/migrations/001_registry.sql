-- The registry that telemetry needs: households (by UPRN), their bins, vehicles and devices.
-- Rounds, contracts and the collection calendar come in later migrations.

CREATE TABLE contractors (
  contractor_id text PRIMARY KEY,
  name          text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

-- UPRN: integer of up to 12 digits, no check digit (DESIGN.md).
CREATE TABLE households (
  uprn        bigint PRIMARY KEY CHECK (uprn > 0 AND uprn <= 999999999999),
  address     text NOT NULL,
  street      text,
  postcode    text,
  ward        text,
  lat         double precision CHECK (lat BETWEEN -90 AND 90),
  lon         double precision CHECK (lon BETWEEN -180 AND 180),
  assisted    boolean NOT NULL DEFAULT false,
  crm_ref     text,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX households_ward_idx ON households (ward);
CREATE INDEX households_street_idx ON households (street);
CREATE INDEX households_postcode_idx ON households (postcode);

CREATE TABLE bins (
  bin_id            text PRIMARY KEY,
  uprn              bigint NOT NULL REFERENCES households (uprn),
  stream            text NOT NULL CHECK (stream IN ('residual', 'recycling', 'garden', 'food', 'glass')),
  rfid_tag          text UNIQUE,
  capacity_l        integer CHECK (capacity_l > 0),
  colour            text,
  communal          boolean NOT NULL DEFAULT false,
  active            boolean NOT NULL DEFAULT true,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX bins_uprn_idx ON bins (uprn);

CREATE TABLE vehicles (
  vehicle_id     text PRIMARY KEY,
  registration   text,
  contractor_id  text REFERENCES contractors (contractor_id),
  capacity_kg    integer,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- A device is a sensor on one bin or a unit on one vehicle. Only a slow hash of its secret is kept.
CREATE TABLE devices (
  device_id     text PRIMARY KEY,
  kind          text NOT NULL CHECK (kind IN ('bin', 'vehicle')),
  secret_hash   text NOT NULL,
  bin_id        text UNIQUE REFERENCES bins (bin_id),
  vehicle_id    text UNIQUE REFERENCES vehicles (vehicle_id),
  created_at    timestamptz NOT NULL DEFAULT now(),
  revoked_at    timestamptz,
  -- Live state, kept by ingest: the highest seq stored, and online status from connect/last-will.
  last_seq      bigint,
  last_ts       timestamptz,
  online        boolean,
  online_since  timestamptz,
  CHECK ((kind = 'bin' AND vehicle_id IS NULL) OR (kind = 'vehicle' AND bin_id IS NULL))
);
