"""Reads a cockpit's Open311 endpoint with georeport (PyPI), a GeoReport v2 client we did not write,
in JSON and in XML, and prints what it saw as one JSON object for server/tests/open311.rs to check.

Usage: georeport_client.py BASE_URL JURISDICTION REQUEST_ID
"""
import json
import sys

from georeport import GeoReport

base, jurisdiction, request_id = sys.argv[1:4]
out = {}
for fmt in ("json", "xml"):
    client = GeoReport(base, jurisdiction=jurisdiction, output_format=fmt)
    services = client.get_service_list()
    definition = client.get_service_definition("dispute")
    attributes = definition["attributes"]
    if fmt == "xml":
        attributes = attributes["attribute"]
    one = client.get_service_request(request_id)
    if fmt == "xml":
        one = one if isinstance(one, dict) else one[0]
    some = client.get_service_requests(service_request_id=request_id)
    if fmt == "xml":
        some = some if isinstance(some, list) else [some]
    recent = client.get_service_requests(service_code="hazard,environment", status="open")
    if fmt == "xml":
        recent = recent if isinstance(recent, list) else [recent]
    out[fmt] = {
        "services": [s["service_code"] for s in services],
        "attributes": [a["code"] for a in attributes],
        "one": {k: one.get(k) for k in ("service_request_id", "status", "service_code", "address")},
        "by_id": [r["service_request_id"] for r in some],
        "recent_codes": sorted({r["service_code"] for r in recent}),
        "recent_statuses": sorted({r["status"] for r in recent}),
        "recent": len(recent),
    }
print(json.dumps(out, ensure_ascii=False))
