// A Kerbside bin as a FIWARE WasteContainer (Smart Data Models, dataModel.WasteManagement 0.3.0,
// /work/shared/standards/fiware-waste-container). Only what Kerbside knows is filled in, in the
// model's own names and units; docs/data-protection.md says why the address stops at the street.
//
//   Kerbside                                   WasteContainer
//   bins.public_id (opaque, random)            id urn:ngsi-ld:WasteContainer:<publicId>
//   (bins.bin_id is left out: councils' bin ids often embed the UPRN, docs/data-protection.md)
//   households.lat/lon                         location (GeoJSON Point, [lon, lat])
//   households.street, postcode                address.streetAddress (street only), address.postalCode
//   households.ward                            wardId
//   bins.stream                                storedWasteKind, storedWasteCode (EU List of Waste)
//   (every bin is a household's)               storedWasteOrigin household
//   bins.capacity_l                            binCapacity (litres, unitCode LTR)
//   bins.colour                                binColor
//   (wheeled bins)                             category ["portable"]
//   latest reading fill_pct 0–100              fillingLevel 0–1 (observedAt = reading time)
//   latest reading temp_c                      temperature (°C, unitCode CEL)
//   latest reading status; no sensor / none    status; unknown
//   fitted sensor                              refDevice urn:ngsi-ld:Device:<publicId> (the container's opaque
//                                              id: device ids, like bin ids, often embed the UPRN)
//   last lift recorded as collected            dateLastEmptying
//   next due collection + its round's end      nextActuationDeadline
//   contractor of the round for the stream     responsible
//   bins.created_at                            dateCreated
//   newest of the above                        dateModified
import { BIN_STATUSES } from '../../core/contract/messages.ts'
import { FIWARE_WASTE_KIND, type WasteStream } from '../../core/contract/domain.ts'
import { WASTE_CODE, type ContainerRow } from '../../storage/waste-containers.ts'
import type { NgsiAttribute, NgsiEntity } from './representation.ts'

export const ENTITY_TYPE = 'WasteContainer'
/** The type's expanded name under the data model's @context. */
export const ENTITY_TYPE_URI = 'https://smartdatamodels.org/dataModel.WasteManagement/WasteContainer'
const ID_PREFIX = `urn:ngsi-ld:${ENTITY_TYPE}:`

export const containerId = (publicId: string): string => `${ID_PREFIX}${publicId}`
/** The sensor fitted to a container, named by the container's opaque id, not by its device id (which may embed the UPRN). */
export const deviceEntityId = (publicId: string): string => `urn:ngsi-ld:Device:${publicId}`

const PUBLIC_ID = /^[0-9a-f]{20}$/

/** The bin's public id an entity id names, or null when it is not one of ours. */
export function publicIdOf(entityId: string): string | null {
  if (!entityId.startsWith(ID_PREFIX)) return null
  const id = entityId.slice(ID_PREFIX.length)
  return PUBLIC_ID.test(id) ? id : null
}

/** UN/CEFACT common codes (Rec. 20), as NGSI-LD's unitCode expects. */
const UNIT = { litre: 'LTR', celsius: 'CEL', one: 'C62' } as const

/** Percent 0–100 to the model's ratio 0–1; two decimals of a percent are all a sensor reports. */
export const fillingLevel = (fillPct: number): number => Math.min(1, Math.max(0, Math.round(fillPct * 100) / 10000))

const KNOWN_STATUSES: readonly string[] = BIN_STATUSES

/** The model's status: what the sensor last said, or `unknown` (no sensor, or it reported none). */
export const containerStatus = (row: Pick<ContainerRow, 'deviceId' | 'readingStatus'>): string =>
  row.deviceId && row.readingStatus && KNOWN_STATUSES.includes(row.readingStatus) ? row.readingStatus : 'unknown'

const latest = (...dates: (Date | null)[]): Date => new Date(Math.max(...dates.filter((d): d is Date => d !== null).map((d) => d.getTime())))

export function toWasteContainer(row: ContainerRow): NgsiEntity {
  const stream = row.stream as WasteStream
  const a: Record<string, NgsiAttribute> = {}
  a.location = { type: 'GeoProperty', value: { type: 'Point', coordinates: [row.lon, row.lat] } }
  if (row.street || row.postcode) {
    a.address = { type: 'Property', value: { ...(row.street ? { streetAddress: row.street } : {}), ...(row.postcode ? { postalCode: row.postcode } : {}) } }
  }
  if (row.ward) a.wardId = { type: 'Property', value: row.ward }
  a.category = { type: 'Property', value: ['portable'] }
  a.storedWasteKind = { type: 'Property', value: FIWARE_WASTE_KIND[stream] }
  const code = WASTE_CODE[stream]
  if (code) a.storedWasteCode = { type: 'Property', value: code }
  a.storedWasteOrigin = { type: 'Property', value: 'household' }
  if (row.capacityL !== null) a.binCapacity = { type: 'Property', value: row.capacityL, unitCode: UNIT.litre }
  if (row.colour) a.binColor = { type: 'Property', value: row.colour }
  const observedAt = row.readingAt ?? undefined
  if (row.fillPct !== null) a.fillingLevel = { type: 'Property', value: fillingLevel(row.fillPct), unitCode: UNIT.one, observedAt }
  if (row.tempC !== null) a.temperature = { type: 'Property', value: Math.round(row.tempC * 100) / 100, unitCode: UNIT.celsius, observedAt }
  a.status = { type: 'Property', value: containerStatus(row), ...(row.deviceId && observedAt ? { observedAt } : {}) }
  if (row.deviceId) a.refDevice = { type: 'Relationship', object: deviceEntityId(row.publicId), simplifiedAsList: true }
  if (row.lastEmptiedAt) a.dateLastEmptying = { type: 'DateTimeProperty', value: row.lastEmptiedAt }
  if (row.nextCollectionBy) a.nextActuationDeadline = { type: 'DateTimeProperty', value: row.nextCollectionBy }
  if (row.responsible) a.responsible = { type: 'Property', value: row.responsible }
  a.dateCreated = { type: 'DateTimeProperty', value: row.createdAt }
  a.dateModified = { type: 'DateTimeProperty', value: latest(row.createdAt, row.readingAt, row.lastEmptiedAt) }
  return { id: containerId(row.publicId), type: ENTITY_TYPE, attributes: a }
}
