"""A gRPC client over TLS (Python grpcio, Debian's /usr/bin/python3), with or without a client
certificate: calls ResolveSubject, ext_authz Check and grpc.health.v1.Health/Check on the
resolver and prints one JSON line per call: {"call": ..., "code": "OK"|status name, ...}.

The message classes come from the repository's descriptor set (proto/descriptor-set.binpb), so
nothing here is generated.

usage: tls_client.py ADDRESS DESCRIPTOR_SET CA_FILE TOKEN [CERT_FILE KEY_FILE]
"""

import json
import sys

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory


def message_class(pool, name):
    descriptor = pool.FindMessageTypeByName(name)
    get = getattr(message_factory, "GetMessageClass", None)
    return get(descriptor) if get else message_factory.MessageFactory(pool).GetPrototype(descriptor)


def main():
    args = sys.argv[1:]
    address, descriptor_set, ca_file, token = args[:4]
    cert_file, key_file = (args[4], args[5]) if len(args) >= 6 else (None, None)

    pool = descriptor_pool.DescriptorPool()
    with open(descriptor_set, "rb") as f:
        for file in descriptor_pb2.FileDescriptorSet.FromString(f.read()).file:
            pool.Add(file)

    def read(path):
        with open(path, "rb") as f:
            return f.read()

    credentials = grpc.ssl_channel_credentials(
        root_certificates=read(ca_file),
        private_key=read(key_file) if key_file else None,
        certificate_chain=read(cert_file) if cert_file else None,
    )
    # The server certificate names "resolver" and "localhost"; the address is 127.0.0.1.
    channel = grpc.secure_channel(
        address, credentials, options=[("grpc.ssl_target_name_override", "localhost")]
    )

    def call(name, path, request_type, response_type, request):
        stub = channel.unary_unary(
            path,
            request_serializer=message_class(pool, request_type).SerializeToString,
            response_deserializer=message_class(pool, response_type).FromString,
        )
        try:
            response = stub(request, timeout=10)
            body = json_format.MessageToDict(response)
            print(json.dumps({"call": name, "code": "OK", "body": body}))
        except grpc.RpcError as error:
            print(json.dumps({"call": name, "code": error.code().name, "details": error.details()}))

    resolve_request = message_class(pool, "identity.v1.ResolveSubjectRequest")(token=token)
    call(
        "resolve",
        "/identity.v1.SubjectResolver/ResolveSubject",
        "identity.v1.ResolveSubjectRequest",
        "identity.v1.ResolveSubjectResponse",
        resolve_request,
    )
    check_request = message_class(pool, "envoy.service.auth.v3.CheckRequest")()
    check_request.attributes.request.http.method = "GET"
    check_request.attributes.request.http.path = "/orders"
    check_request.attributes.request.http.headers["authorization"] = "Bearer " + token
    call(
        "check",
        "/envoy.service.auth.v3.Authorization/Check",
        "envoy.service.auth.v3.CheckRequest",
        "envoy.service.auth.v3.CheckResponse",
        check_request,
    )
    call(
        "health",
        "/grpc.health.v1.Health/Check",
        "grpc.health.v1.HealthCheckRequest",
        "grpc.health.v1.HealthCheckResponse",
        message_class(pool, "grpc.health.v1.HealthCheckRequest")(),
    )


if __name__ == "__main__":
    main()
