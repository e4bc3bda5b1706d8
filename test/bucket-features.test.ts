// Feature flags per bucket (AIStore's bucket `features`), added to the cluster's.
import test from 'ava';
import { defaultClusterConfig, featureOn, newBucketProps, setBucketProps } from '../src/cluster/config';

test('a feature is on when the cluster or the bucket has it', (t) => {
  const conf = defaultClusterConfig();
  const plain = newBucketProps(conf, 0, 'aws');
  t.false(featureOn(conf, plain, 'S3-Presigned-Request'));
  const withBucket = setBucketProps(plain, { features: 'S3-Presigned-Request,Streaming-Cold-GET' });
  t.deepEqual(withBucket.features, ['S3-Presigned-Request', 'Streaming-Cold-GET']);
  t.true(featureOn(conf, withBucket, 'S3-Presigned-Request'));
  t.false(featureOn(conf, withBucket, 'S3-API-via-Root'));
  conf.features = ['S3-Presigned-Request'];
  t.true(featureOn(conf, plain, 'S3-Presigned-Request'));
  t.true(featureOn(conf, undefined, 'S3-Presigned-Request'));
});

test('bucket features: "none" clears them; unknown names are refused with the valid ones', (t) => {
  const conf = defaultClusterConfig();
  const b = setBucketProps(newBucketProps(conf, 0, 'aws'), { features: ['Streaming-Cold-GET'] });
  t.is(setBucketProps(b, { features: 'none' }).features, undefined);
  const e = t.throws(() => setBucketProps(b, { features: 'No-Such-Feature' }));
  t.regex(e!.message, /No-Such-Feature.*S3-Presigned-Request/);
});
