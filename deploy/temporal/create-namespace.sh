#!/bin/sh
# Throughgate's Temporal namespace, created once (as Temporal's own compose
# does, temporalio/samples-server compose/scripts/create-namespace.sh): wait
# until `temporal operator cluster health` answers SERVING, then create
# TEMPORAL_NAMESPACE unless it exists. The temporal CLI reads TEMPORAL_ADDRESS
# (and, with mTLS, TEMPORAL_TLS_CLIENT_CERT_PATH, TEMPORAL_TLS_CLIENT_KEY_PATH
# and TEMPORAL_TLS_SERVER_CA_CERT_PATH) from the environment.
set -eu
: "${TEMPORAL_ADDRESS:?}"
: "${TEMPORAL_NAMESPACE:?}"
retention=${NAMESPACE_RETENTION:-30d}
attempt=1
until temporal operator cluster health; do
	if [ "$attempt" -ge 60 ]; then
		echo "temporal-namespace: the cluster at $TEMPORAL_ADDRESS did not become healthy" >&2
		exit 1
	fi
	attempt=$((attempt + 1))
	sleep 5
done
attempt=1
until temporal operator namespace describe --namespace "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; do
	if temporal operator namespace create --namespace "$TEMPORAL_NAMESPACE" --retention "$retention"; then
		echo "temporal-namespace: created $TEMPORAL_NAMESPACE (retention $retention)"
	fi
	if [ "$attempt" -ge 30 ]; then
		echo "temporal-namespace: could not create $TEMPORAL_NAMESPACE" >&2
		exit 1
	fi
	attempt=$((attempt + 1))
	sleep 2
done
echo "temporal-namespace: $TEMPORAL_NAMESPACE is there"
