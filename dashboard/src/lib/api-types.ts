// The API's own declared types (TypeBox schemas on the server), imported rather than retyped.
// Device is declared in its route module, so the checker follows that module's server imports;
// the auth plugin is named here for the fastify declarations (requireRole, caller) those use.
import type {} from '../../../api/plugins/auth.ts'
export type { CityMap, MapSummary, MapAlert, MapVehicle } from '../../../api/schemas/map.ts'
export type { Device } from '../../../api/routes/devices.ts'
export type { ErrorBody } from '../../../api/schemas/common.ts'
export type { LiveEvent } from '../../../api/live-feed.ts'
export type { BinReading, LiftEvent, VehiclePosition, DeviceStatus, LiftOutcome } from '../../../core/contract/messages.ts'
export type { AlertKind } from '../../../core/bin-alerts.ts'
