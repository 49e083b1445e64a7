// Sends the calls of a plan (made by `harness.py plan`) to Rapport with npm @segment/analytics-node
// (HTTP Basic auth with the write key, also `writeKey` in the body), pointed at the server with its
// `host` option; harness.py then verifies them through Rapport's API.
//
//   node node_client.mjs --name NAME --host URL --write-key K --retry-write-key RK
//                        --plan PLAN.json --stats STATS.json
//
// Exits non-zero if the library reported any delivery error.

import { setMaxListeners } from 'node:events'
import { readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { Analytics } from '@segment/analytics-node'

// The library's concurrent retries each add an abort listener to one AbortSignal; without this,
// Node warns (MaxListenersExceededWarning) once more than 10 batches wait at the same time.
setMaxListeners(100)

const require = createRequire(import.meta.url)
const { version } = require('@segment/analytics-node/package.json')

const args = {}
for (let i = 2; i < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1]
}
for (const k of ['name', 'host', 'write-key', 'retry-write-key', 'plan', 'stats']) {
  if (!args[k]) throw new Error(`missing --${k}`)
}
const plan = JSON.parse(readFileSync(args.plan, 'utf8'))
const errors = []
const statuses = {}

function client(writeKey, settings) {
  const analytics = new Analytics({ writeKey, host: args.host, ...settings })
  // Observe what the library's HTTP client receives.
  analytics.on('http_response', (r) => {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1
  })
  analytics.on('error', (e) => errors.push(`error event: ${e?.code ?? ''} ${e?.reason ?? e}`))
  return analytics
}

function send(analytics, c) {
  const common = { messageId: c.message_id }
  if (c.user_id) common.userId = c.user_id
  if (c.anonymous_id) common.anonymousId = c.anonymous_id
  if (c.timestamp) common.timestamp = new Date(c.timestamp)
  const done = (err) => {
    if (err) errors.push(`${c.message_id}: ${err?.reason ?? err}`)
  }
  switch (c.type) {
    case 'identify':
      return analytics.identify({ ...common, traits: c.traits }, done)
    case 'track':
      return analytics.track({ ...common, event: c.event, properties: c.properties }, done)
    case 'page':
      return analytics.page({ ...common, name: c.name, category: c.category, properties: c.properties }, done)
    case 'screen':
      return analytics.screen({ ...common, name: c.name, properties: c.properties }, done)
    case 'group':
      return analytics.group({ ...common, groupId: c.group_id, traits: c.traits }, done)
    case 'alias':
      return analytics.alias({ messageId: c.message_id, userId: c.user_id, previousId: c.previous_id }, done)
    default:
      throw new Error(`unknown call ${c.type}`)
  }
}

// 1. One of each call, with explicit messageIds, then flush.
const main = client(args['write-key'], { flushAt: 20, flushInterval: 100 })
for (const c of plan.main) send(main, c)
await main.closeAndFlush({ timeout: 30000 })

// 2. A burst against a rate-limited source, in batches of plan.retry_batch (sent concurrently by
//    this library): the server answers 429 with Retry-After to some; the library waits and
//    retries them (uncounted against maxRetries, up to its own cap of maxRetries + 20 attempts).
const burst = client(args['retry-write-key'], { flushAt: plan.retry_batch, flushInterval: 50 })
for (const c of plan.retry) send(burst, c)
await burst.closeAndFlush({ timeout: 60000 })

writeFileSync(args.stats, JSON.stringify(statuses))
if (errors.length) {
  console.error(`[${args.name}] the library reported delivery errors:\n  ${errors.join('\n  ')}`)
  process.exit(1)
}
console.log(`[${args.name}] @segment/analytics-node ${version}: sent ${plan.main.length} calls and a burst of ${plan.retry.length}`)
