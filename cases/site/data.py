"""/data/: the bulk dumps (cases.dumps), their checksums, and how to stay in sync after.

    /data/             the page: each file with its size, sha256, Last-Modified and seq
    /data/index.json   the same for machines
    /data/<file>       the file itself, streamed from disk with ETag and Last-Modified

Only files of the served build's manifest are served, so no other path on disk can be
asked for. The page cache (cases.freshness.cache) never keeps these answers: the files
are large and already on disk, and the manifest changes only with a build.
"""

from django.http import FileResponse, Http404, JsonResponse
from django.template.response import TemplateResponse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.dateparse import parse_datetime
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from cases.dumps.build import current_manifest, served_file
from cases.site.claimreview import dataset_citations
from cases.site.filtered import bad_request

# Clients may keep an answer this long before asking again (with If-None-Match).
MAX_AGE = 300


def _no_parameters(request):
    unknown = sorted(request.GET)
    if unknown:
        return bad_request([(name, "unknown parameter: /data/ takes none.") for name in unknown])
    return None


def _with_addresses(request, manifest):
    """The manifest as published: each file with its absolute URL, and where a mirror
    follows the changes feed from."""
    files = [
        {
            **{key: value for key, value in entry.items() if key != "build_seconds"},
            "url": request.build_absolute_uri(f"/data/{entry['name']}"),
        }
        for entry in manifest["files"]
    ]
    changes = request.build_absolute_uri(f"/api/v1/changes/?since={manifest['seq']}")
    return {
        "seq": manifest["seq"],
        "built_at": manifest["built_at"],
        "cases": manifest["cases"],
        "licence": manifest["licence"],
        "changes_feed": changes,
        "files": files,
    }


def _cached(response):
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    return response


@require_safe
def data_index(request):
    refused = _no_parameters(request)
    if refused:
        return refused
    manifest = current_manifest()
    built_at = parse_datetime(manifest["built_at"]) if manifest else None
    context = {
        "dump": _with_addresses(request, manifest) if manifest else None,
        "citations": dataset_citations(request, built_at.date() if built_at else None),
    }
    return _cached(TemplateResponse(request, "cases/data.html", context))


@require_safe
def data_index_json(request):
    refused = _no_parameters(request)
    if refused:
        return refused
    manifest = current_manifest()
    if manifest is None:
        return JsonResponse({"detail": "No dump has been built yet."}, status=404)
    # A build's name is unique: pollers revalidate with If-None-Match and get a 304 until
    # the next build.
    etag = f'"{manifest["build"]}"'
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        return _cached(not_modified)
    response = JsonResponse(_with_addresses(request, manifest), json_dumps_params={"indent": 2})
    response["ETag"] = etag
    return _cached(response)


@require_safe
def data_file(request, name):
    refused = _no_parameters(request)
    if refused:
        return refused
    manifest = current_manifest()
    found = served_file(manifest, name) if manifest else None
    if found is None:
        raise Http404("No such file in the current dump.")
    path, entry = found
    etag = f'"{entry["sha256"]}"'
    last_modified = parse_datetime(entry["last_modified"]).timestamp()
    not_modified = get_conditional_response(request, etag=etag, last_modified=last_modified)
    if not_modified is not None:
        return _cached(not_modified)
    try:
        file = open(path, "rb")  # noqa: SIM115 (FileResponse closes it)
    except FileNotFoundError:
        # Pruned between reading the manifest and opening it: a newer build is served.
        raise Http404("The dump was just replaced: ask /data/ again.") from None
    response = FileResponse(file, content_type=entry["media_type"], as_attachment=True,
                            filename=name)  # fmt: skip
    response["ETag"] = etag
    response["Last-Modified"] = http_date(last_modified)
    return _cached(response)
