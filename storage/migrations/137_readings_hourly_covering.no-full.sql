-- A sensor's hourly roll-up read from its key alone (GET /api/v1/devices/{id}/readings/aggregate, the
-- dashboard's fill chart). The table is written hour by hour for every sensor at once, so a week of
-- one sensor's rows sits on 168 pages; once the table outgrows the server's cache (471 MB at
-- 210,000 households), each of those is a read. With the columns in the key's index, the week is
-- two or three index pages (an index-only scan: the roll-up is written once and then only read, so
-- vacuum marks its pages all-visible). The primary key takes the columns: no second index to keep.
ALTER TABLE bin_readings_hourly
  DROP CONSTRAINT bin_readings_hourly_pkey,
  ADD CONSTRAINT bin_readings_hourly_pkey PRIMARY KEY (device_id, bucket) INCLUDE (n, fill_sum, fill_min, fill_max, temp_max, battery_min);
