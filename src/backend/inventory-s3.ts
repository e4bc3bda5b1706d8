// An InventoryStore over any S3 endpoint through the AWS SDK: the destination bucket S3 writes
// inventories to (on AWS, or any S3-compatible store such as another tais cluster).

import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import type { InventoryStore } from './inventory';

export function s3InventoryStore(client: S3Client, bucket: string): InventoryStore {
  return {
    async *list(prefix: string) {
      let token: string | undefined;
      do {
        const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) if (o.Key !== undefined) yield o.Key;
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
      } while (token !== undefined);
    },
    async get(key: string) {
      const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      if (!(r.Body instanceof Readable)) throw new Error(`s3://${bucket}/${key}: no body stream`);
      return r.Body;
    },
  };
}
