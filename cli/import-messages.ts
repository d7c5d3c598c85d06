// Import errors in plain words for the person running `kerbside import`: the registry's checks say
// what the schema says ("expected string length less or equal to 10"); this says what the value
// should have been ("not a UK postcode (like L1 8JQ)"), keeping the value that was given. Fields
// with no plainer wording keep the schema's message. docs/import-columns.md has every column.

const PLAIN: Record<string, string> = {
  postcode: 'not a UK postcode (like L1 8JQ)',
  uprn: 'not a UPRN (a whole number of up to 12 digits)',
  lat: 'not a latitude (degrees, -90 to 90)',
  lon: 'not a longitude (degrees, -180 to 180)',
  startsOn: 'not a date written YYYY-MM-DD',
  endsOn: 'not a date written YYYY-MM-DD',
  anchorDate: 'not a date written YYYY-MM-DD',
  startsAt: 'not a time written HH:MM (00:00 to 23:59)',
  endsAt: 'not a time written HH:MM (00:00 to 23:59)',
  weekday: 'not a weekday (1 = Monday … 7 = Sunday)',
  capacityL: 'not a capacity in litres (a whole number from 1 to 5000)',
  capacityKg: 'not a weight in kilograms (a whole number)',
  rfidTag: 'not an RFID tag (letters, digits, ":", "_" and "-")',
  sensorDeviceId: 'not a device id (up to 64 letters, digits, ".", "_" and "-", starting with a letter or digit)',
  unitDeviceId: 'not a device id (up to 64 letters, digits, ".", "_" and "-", starting with a letter or digit)',
  sensorDevEui: 'not a DevEUI (16 hexadecimal digits)',
  binId: 'not an id (up to 64 letters, digits, ".", "_", ":" and "-", starting with a letter or digit)',
  roundId: 'not an id (up to 64 letters, digits, ".", "_", ":" and "-", starting with a letter or digit)',
  vehicleId: 'not an id (up to 64 letters, digits, ".", "_", ":" and "-", starting with a letter or digit)',
  contractId: 'not an id (up to 64 letters, digits, ".", "_", ":" and "-", starting with a letter or digit)',
  contractorId: 'not an id (up to 64 letters, digits, ".", "_", ":" and "-", starting with a letter or digit)',
}

/** The schema's words replaced by plain ones where the field has them; "is required" and the like are kept. */
export function plainImportMessage(field: string | undefined, message: string): string {
  const plain = field ? PLAIN[field] : undefined
  if (!plain || !/^expected/i.test(message)) return message
  const got = /\(got .*\)$/.exec(message)?.[0]
  return got ? `${plain} ${got}` : plain
}
