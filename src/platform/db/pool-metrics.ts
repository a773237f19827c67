import type { Connection } from 'mongoose';
import { gaugeOf, type Metrics } from '../metrics.js';

type Client = ReturnType<Connection['getClient']>;
type ConnectionEvent = { address: string; connectionId: number | '<monitor>' };

/**
 * Follows the database driver's connection pool through its CMAP events (connection created, checked out, checked in,
 * closed; checkouts started and failed) and reports, on /metrics, the connections checked out and available, the
 * operations waiting for one, how long they waited and why checkouts failed. Counts are kept in plain numbers and read
 * at scrape time: the events fire several times per database operation.
 *
 *     watchPool(db.getClient(), metrics);
 */
export function watchPool(client: Client, metrics: Metrics): void {
  // Connections are told apart by server and id; one opened before we listened is learnt when it is first checked out.
  const open = new Set<string>();
  const checkedOut = new Set<string>();
  let waiting = 0;
  const keyOf = (e: ConnectionEvent) => `${e.address}#${e.connectionId}`;

  client.on('connectionCreated', (e) => {
    open.add(keyOf(e));
  });
  client.on('connectionClosed', (e) => {
    open.delete(keyOf(e));
    checkedOut.delete(keyOf(e));
  });
  client.on('connectionCheckOutStarted', () => {
    waiting++;
  });
  client.on('connectionCheckOutFailed', (e) => {
    waiting = Math.max(0, waiting - 1);
    metrics.dbPoolCheckoutFailures.inc({ reason: String(e.reason) });
  });
  client.on('connectionCheckedOut', (e) => {
    waiting = Math.max(0, waiting - 1);
    open.add(keyOf(e));
    checkedOut.add(keyOf(e));
    metrics.dbPoolCheckoutSeconds.observe(e.durationMS / 1000);
  });
  client.on('connectionCheckedIn', (e) => {
    checkedOut.delete(keyOf(e));
  });

  gaugeOf(metrics, 'db_pool_checked_out_connections', 'Database connections in use by an operation', () => checkedOut.size);
  gaugeOf(metrics, 'db_pool_available_connections', 'Open database connections idle in the pool', () => open.size - checkedOut.size);
  gaugeOf(metrics, 'db_pool_wait_queue_size', 'Operations waiting for a database connection', () => waiting);
}
