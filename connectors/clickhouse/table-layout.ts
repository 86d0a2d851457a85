/**
 * Where the offline tables live: one node (embedded chdb or one server), or a ClickHouse cluster named by
 * CLICKHOUSE_CLUSTER. On a cluster each table is a Replicated table on every node (`<table>_local`) under
 * a Distributed table of the plain name, so writers and analysts use the same names in both layouts.
 * The layout belongs to the connection, so it is remembered per client, as the dialect is.
 */
import type { ClickHouseClient } from '@clickhouse/client';
import type { ClickHouseEndpoint } from '../config/endpoints.js';

export type TableLayout =
  | { readonly kind: 'single-node' }
  | {
      readonly kind: 'cluster';
      /** The cluster's name in the servers' <remote_servers>. */
      readonly cluster: string;
      /** The database of unqualified table names (ON CLUSTER DDL and Distributed need it spelled out). */
      readonly database: string;
    };

export const SINGLE_NODE: TableLayout = { kind: 'single-node' };

export function layoutOfEndpoint(endpoint: ClickHouseEndpoint): TableLayout {
  return endpoint.mode === 'http' && endpoint.cluster
    ? { kind: 'cluster', cluster: endpoint.cluster, database: endpoint.database }
    : SINGLE_NODE;
}

const layouts = new WeakMap<ClickHouseClient, TableLayout>();

export function rememberLayout(client: ClickHouseClient, layout: TableLayout): void {
  layouts.set(client, layout);
}

/** The layout of a client made by createClickHouseClient; a client made elsewhere is single-node. */
export function tableLayoutOf(client: object): TableLayout {
  return layouts.get(client as ClickHouseClient) ?? SINGLE_NODE;
}

/** ` ON CLUSTER name` on a cluster, nothing on one node. */
export function onCluster(layout: TableLayout): string {
  return layout.kind === 'cluster' ? ` ON CLUSTER ${layout.cluster}` : '';
}

/** [database, table] of a possibly unqualified name, with the layout's database filled in. */
export function qualifiedName(table: string, layout: TableLayout & { kind: 'cluster' }): [string, string] {
  const dot = table.indexOf('.');
  return dot < 0 ? [layout.database, table] : [table.slice(0, dot), table.slice(dot + 1)];
}
