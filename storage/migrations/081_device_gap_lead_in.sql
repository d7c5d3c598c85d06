-- The window below a device's first stored message in which earlier messages may still arrive
-- (a broker restart can deliver a device's first messages after later ones). It is kept as a gap
-- so that such a message is accepted, but it is not a loss: data-quality figures leave it out.
ALTER TABLE device_gaps ADD COLUMN lead_in boolean NOT NULL DEFAULT false;
