// The LoRaWAN simulator's command line (simulate.ts does the work):
//   node --import tsx simulators/lorawan/simulate-cli.ts --url http://127.0.0.1:8080 --admin-key KEY \
//     --ttn-secret S1 --chirpstack-secret S2 --bins bin-1,bin-2,bin-3 [--every 60] [--count 0]
import { parseArgs } from 'node:util'
import { registerSensors, sendRound, type SimOptions } from './simulate.ts'

async function main() {
  const { values } = parseArgs({
    options: {
      url: { type: 'string', default: 'http://127.0.0.1:8080' }, 'admin-key': { type: 'string' }, 'ttn-secret': { type: 'string' }, 'chirpstack-secret': { type: 'string' },
      bins: { type: 'string' }, every: { type: 'string', default: '60' }, count: { type: 'string', default: '0' },
    },
  })
  if (!values['admin-key'] || !values['ttn-secret'] || !values['chirpstack-secret'] || !values.bins) {
    console.error('usage: simulate-cli.ts --url URL --admin-key KEY --ttn-secret S --chirpstack-secret S --bins bin-1,bin-2 [--every seconds] [--count rounds, 0 = forever]')
    process.exit(2)
  }
  const o: SimOptions = { url: values.url!, adminKey: values['admin-key'], secrets: { ttn: values['ttn-secret'], chirpstack: values['chirpstack-secret'] }, bins: values.bins.split(',').map((b) => b.trim()).filter(Boolean) }
  const sensors = await registerSensors(o)
  console.log(`${sensors.length} LoRaWAN sensors registered (${[...new Set(sensors.map((s) => s.model))].join(', ')})`)
  for (let round = 1; Number(values.count) === 0 || round <= Number(values.count); round++) {
    const r = await sendRound(o, sensors)
    console.log(`round ${round}: ${r.sent} uplinks${r.retries ? `, ${r.retries} retried` : ''}`)
    await new Promise((res) => setTimeout(res, Number(values.every) * 1000))
  }
}

await main()
