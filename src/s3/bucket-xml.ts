// Bucket-level response bodies: ListAllMyBucketsResult, LocationConstraint, VersioningConfiguration.

import type { Owner } from './list-xml';
import { isoDate } from './time';
import { S3_XMLNS, XML_DECL, XmlWriter, escapeXml } from './xml';

export interface BucketEntry {
  name: string;
  creationMs: number;
}

export interface ListBucketsPage {
  buckets: readonly BucketEntry[];
  /** Echoed when the request had one (newer S3 ListBuckets). */
  prefix?: string;
  /** Written when the listing was cut by max-buckets. */
  continuationToken?: string;
}

export function listBucketsXml(page: ListBucketsPage, owner: Owner): string {
  const w = new XmlWriter().start('ListAllMyBucketsResult', S3_XMLNS);
  w.start('Owner').text('ID', owner.id).text('DisplayName', owner.displayName).end();
  w.start('Buckets');
  for (const b of page.buckets) w.start('Bucket').text('Name', b.name).text('CreationDate', isoDate(b.creationMs)).end();
  w.end();
  if (page.prefix !== undefined && page.prefix !== '') w.text('Prefix', page.prefix);
  w.maybe('ContinuationToken', page.continuationToken);
  return w.end().toString();
}

/** GetBucketLocation. S3 answers an empty element for us-east-1, so pass '' for it. */
export function locationXml(region: string): string {
  return XML_DECL + '<LocationConstraint xmlns="' + S3_XMLNS + '">' + escapeXml(region) + '</LocationConstraint>';
}

/** GetBucketVersioning. A bucket that never had versioning enabled has an empty configuration. */
export function versioningXml(status?: 'Enabled' | 'Suspended'): string {
  const w = new XmlWriter().start('VersioningConfiguration', S3_XMLNS);
  w.maybe('Status', status);
  return w.end().toString();
}
