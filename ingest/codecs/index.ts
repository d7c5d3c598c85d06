// The vendor codecs Kerbside knows, by model id (what a LoRaWAN device is registered with).
import { dlMbx } from './decentlab-dl-mbx.ts'
import { ldds75 } from './dragino-ldds75.ts'
import { em310Udl } from './milesight-em310-udl.ts'
import { em400Udl } from './milesight-em400-udl.ts'
import type { Codec } from './types.ts'

export const CODECS: readonly Codec[] = [em310Udl, em400Udl, ldds75, dlMbx]
const BY_MODEL = new Map(CODECS.map((c) => [c.model, c]))

export const SENSOR_MODELS = CODECS.map((c) => c.model)
export const codecFor = (model: string): Codec | undefined => BY_MODEL.get(model.toLowerCase())

export type { Codec, SensorValues, DecodeResult } from './types.ts'
