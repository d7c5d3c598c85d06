// A stand-in broker that does nothing but answer: CONNACK to every CONNECT, PUBACK to every QoS 1
// PUBLISH, at once, with no login, routing or storage. bench:ingest runs the load generator against
// it to show that the generator alone goes faster than the broker it measures (the generator is not
// the bottleneck). Prints {"mqttPort":…} on stdout once listening; ends on SIGTERM.
import net from 'node:net'
import { generate, parser as createParser, type Packet } from 'mqtt-packet'

const CONNACK = generate({ cmd: 'connack', returnCode: 0, sessionPresent: false })
const PINGRESP = generate({ cmd: 'pingresp' })

const server = net.createServer((socket) => {
  socket.setNoDelay(true)
  const parser = createParser({ protocolVersion: 4 })
  let out: Buffer[] = []
  parser.on('packet', (packet: Packet) => {
    if (packet.cmd === 'connect') out.push(CONNACK)
    else if (packet.cmd === 'publish' && packet.qos === 1) {
      const id = packet.messageId!
      out.push(Buffer.from([0x40, 0x02, id >> 8, id & 0xff])) // PUBACK [MQTT-3.4]
    } else if (packet.cmd === 'pingreq') out.push(PINGRESP)
    else if (packet.cmd === 'disconnect') socket.end()
  })
  parser.on('error', () => socket.destroy())
  // One write per chunk read: the answers to every packet in it.
  socket.on('data', (chunk) => {
    parser.parse(chunk)
    if (out.length > 0 && socket.writable) socket.write(out.length === 1 ? out[0]! : Buffer.concat(out))
    out = []
  })
  socket.on('error', () => socket.destroy())
})
server.listen(0, '127.0.0.1', () => process.stdout.write(`${JSON.stringify({ mqttPort: (server.address() as net.AddressInfo).port })}\n`))
process.once('SIGTERM', () => process.exit(0))
