"""A gRPC client that knows nothing about the resolver but what server reflection tells it.

Run with Debian's /usr/bin/python3 (python3-grpcio, python3-protobuf). It asks the server for
its services, fetches every file they need by symbol and by file name, builds a fresh
descriptor_pool from those files alone (the pool refuses files whose dependencies are missing,
whose map entries are misnamed, or whose references do not resolve), then calls
ResolveSubject and grpc.health.v1.Health/Check dynamically and prints one JSON object.

usage: reflection_client.py ADDRESS REFLECTION_DESCRIPTOR_SET TOKEN [VERSION]
REFLECTION_DESCRIPTOR_SET is protoc's compilation of grpc/reflection/<VERSION>/reflection.proto:
the only schema a reflection client must bring (grpcio-reflection ships the same, generated).
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
    address, reflection_set, token = sys.argv[1:4]
    version = sys.argv[4] if len(sys.argv) > 4 else "v1"
    boot = descriptor_pool.DescriptorPool()
    with open(reflection_set, "rb") as f:
        for file in descriptor_pb2.FileDescriptorSet.FromString(f.read()).file:
            boot.Add(file)
    package = "grpc.reflection." + version
    request_class = message_class(boot, package + ".ServerReflectionRequest")
    response_class = message_class(boot, package + ".ServerReflectionResponse")

    channel = grpc.insecure_channel(address)
    info = channel.stream_stream(
        "/%s.ServerReflection/ServerReflectionInfo" % package,
        request_serializer=request_class.SerializeToString,
        response_deserializer=response_class.FromString,
    )

    def ask(**request):
        (response,) = list(info(iter([request_class(**request)]), timeout=10))
        if response.HasField("error_response"):
            raise RuntimeError("reflection %s: %s" % (request, response.error_response.error_message))
        return response

    services = [s.name for s in ask(list_services="*").list_services_response.service]
    files = {}

    def keep(response):
        for raw in response.file_descriptor_response.file_descriptor_proto:
            file = descriptor_pb2.FileDescriptorProto.FromString(raw)
            files.setdefault(file.name, file)

    for service in services:
        keep(ask(file_containing_symbol=service))
    # Whatever a file depends on and did not come along is asked for by name.
    while True:
        missing = sorted({d for f in files.values() for d in f.dependency if d not in files})
        if not missing:
            break
        for name in missing:
            keep(ask(file_by_filename=name))

    pool = descriptor_pool.DescriptorPool()
    added = []

    def add(name):
        if name in added:
            return
        for dependency in files[name].dependency:
            add(dependency)
        pool.Add(files[name])
        added.append(name)

    for name in sorted(files):
        add(name)

    def call(method_name, request_json, metadata=()):
        method = pool.FindMethodByName(method_name)
        request = message_class(pool, method.input_type.full_name)
        response = message_class(pool, method.output_type.full_name)
        service = method.containing_service.full_name
        stub = channel.unary_unary(
            "/%s/%s" % (service, method.name),
            request_serializer=request.SerializeToString,
            response_deserializer=response.FromString,
        )
        try:
            answer = stub(json_format.ParseDict(request_json, request()), timeout=10, metadata=metadata)
            return {"ok": json_format.MessageToDict(answer, preserving_proto_field_name=True)}
        except grpc.RpcError as error:
            return {"error": {"code": error.code().name, "details": error.details()}}

    principal = pool.FindMessageTypeByName("identity.v1.Principal")
    print(
        json.dumps(
            {
                "services": services,
                "files": added,
                "principal_fields": [f.name for f in principal.fields],
                "principal_nested": [t.name for t in principal.nested_types],
                "resolver_dependencies": list(files["identity/v1/resolver.proto"].dependency),
                "resolve": call("identity.v1.SubjectResolver.ResolveSubject", {"token": token}),
                "refused": call("identity.v1.SubjectResolver.ResolveSubject", {"token": "not-a-jwt"}),
                "health": call("grpc.health.v1.Health.Check", {"service": "identity.v1.SubjectResolver"}),
            }
        )
    )
    channel.close()


if __name__ == "__main__":
    main()
