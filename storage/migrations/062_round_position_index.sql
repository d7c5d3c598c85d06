-- "When did the round pass this property?" (analysis/why-missed): for a collection the round did not
-- lift, the nearest stop before it in driving order that the round did lift or refuse. Walking a
-- round's stops by position from one stop backwards is an index range scan with this.
CREATE INDEX round_households_position_idx ON round_households (round_id, position);
