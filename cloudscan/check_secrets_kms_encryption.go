package cloudscan

// secrets-kms-encryption (5.3.1, "Ensure Kubernetes Secrets are encrypted using Customer Master
// Keys (CMKs) managed in AWS KMS"): an entry of the cluster's encryptionConfig lists the resource
// "secrets", and its key (provider.keyArn) is customer managed: kms:DescribeKey answers
// KeyMetadata.KeyManager CUSTOMER (AWS KMS API reference, KeyMetadata: "AWS" for AWS managed
// keys, "CUSTOMER" for customer managed keys).

import (
	kmstypes "github.com/aws/aws-sdk-go-v2/service/kms/types"
)

func init() {
	register(&Check{Slug: "secrets-kms-encryption", Decides: `an encryptionConfig entry covers "secrets" with a KMS key whose KeyManager is CUSTOMER`, Evaluate: secretsKMSEncryption})
}

func secretsKMSEncryption(ev *Evidence) Outcome {
	const expected = "secrets encrypted with a customer managed KMS key"
	if ev.EKSErr != nil {
		return unread(expected, sourceEncryption, ev.EKSErr)
	}
	arn := secretsKeyARN(ev.EKS)
	if arn == "" {
		return decided(false, expected, "no encryption config for secrets", sourceEncryption,
			`cluster.encryptionConfig must have an entry with resources ["secrets"] and a customer managed KMS key (aws eks associate-encryption-config)`)
	}
	source := sourceEncryption + "; " + sourceKeyManager
	if ev.KeyErr != nil {
		return unread(expected, source, ev.KeyErr)
	}
	manager := string(ev.Key.KeyManager)
	actual := "key " + arn + ", KeyManager " + manager
	if ev.Key.KeyManager != kmstypes.KeyManagerTypeCustomer {
		return decided(false, expected, actual, source, "the key "+arn+" that encrypts secrets is managed by "+manager+"; KeyManager must be CUSTOMER")
	}
	return decided(true, expected, actual, source, "secrets are encrypted with the customer managed key "+arn)
}
