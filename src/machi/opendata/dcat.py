"""The catalogue as DCAT-AP 3 (an RDF graph built with rdflib, served as JSON-LD or
Turtle), for the harvesters of data.europa.eu-style portals and Japan's data catalogue.

One page of datasets per document (newest change first); a Hydra
``PartialCollectionView`` says the total and links the first, previous, next and last
page, as CKAN's DCAT extension does. ``modified_since`` keeps only datasets changed at
or after that moment (an incremental harvest).
"""

from __future__ import annotations

import datetime
import math
from typing import Any

from django.urls import reverse
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD

from machi.opendata import selectors
from machi.opendata.models import LICENCE_URLS, Dataset, Licence
from machi.tenancy.context import current_lg_code

PAGE_SIZE = 100
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
ADMS = Namespace("http://www.w3.org/ns/adms#")
EU_FREQUENCY = Namespace("http://publications.europa.eu/resource/authority/frequency/")
EU_FILE_TYPE = Namespace("http://publications.europa.eu/resource/authority/file-type/")
EU_LANGUAGE = Namespace("http://publications.europa.eu/resource/authority/language/")
IANA = "https://www.iana.org/assignments/media-types/"
FILE_TYPES = {"CSV": "CSV", "JSON": "JSON", "GeoJSON": "GEOJSON", "XLSX": "XLSX"}
JSONLD_CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "hydra": str(HYDRA),
    "spdx": str(SPDX),
    "adms": str(ADMS),
    "xsd": str(XSD),
}


def _bind(graph: Graph) -> None:
    for prefix, namespace in JSONLD_CONTEXT.items():
        graph.bind(prefix, Namespace(namespace))


def _moment(value: datetime.datetime) -> Literal:
    return Literal(
        value.astimezone(datetime.UTC).replace(microsecond=0).isoformat(), datatype=XSD.dateTime
    )


def _agent(graph: Graph, uri: URIRef, name: str) -> URIRef:
    graph.add((uri, RDF.type, FOAF.Agent))
    graph.add((uri, FOAF.name, Literal(name, lang="ja")))
    return uri


def _dataset(graph: Graph, dataset: Dataset, *, origin: str, publisher: URIRef) -> URIRef:
    page = selectors.dataset_page_url(origin, dataset)
    node = URIRef(page)
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.identifier, Literal(str(dataset.uuid))))
    graph.add((node, DCTERMS.title, Literal(dataset.title, lang="ja")))
    graph.add((node, DCTERMS.description, Literal(dataset.notes or dataset.title, lang="ja")))
    graph.add((node, DCAT.landingPage, URIRef(dataset.harvest_url or page)))
    graph.add((node, DCTERMS.issued, _moment(dataset.published_at or dataset.created_at)))
    graph.add((node, DCTERMS.modified, _moment(dataset.modified_at)))
    graph.add((node, DCTERMS.language, EU_LANGUAGE.JPN))
    graph.add((node, DCTERMS.accrualPeriodicity, EU_FREQUENCY[dataset.frequency]))
    org = dataset.organization
    graph.add(
        (
            node,
            DCTERMS.publisher,
            publisher
            if not org.harvest_source
            else _agent(
                graph,
                URIRef(
                    origin
                    + reverse("opendata:catalogue", args=[current_lg_code()])
                    + f"#org-{org.name}"
                ),
                org.title,
            ),
        )
    )
    for tag in dataset.tags.all():
        graph.add((node, DCAT.keyword, Literal(tag.name, lang="ja")))
    if dataset.contact_name or dataset.contact_email or dataset.department:
        contact = BNode()
        graph.add((node, DCAT.contactPoint, contact))
        graph.add((contact, RDF.type, VCARD.Organization))
        graph.add(
            (contact, VCARD.fn, Literal(dataset.contact_name or dataset.department, lang="ja"))
        )
        if dataset.contact_email:
            graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset.contact_email}")))
    licence_url = LICENCE_URLS.get(Licence(dataset.licence), "")
    for resource in dataset.resources.all():
        distribution = URIRef(f"{page}#resource-{resource.uuid}")
        url = URIRef(selectors.resource_download_url(origin, dataset, resource))
        graph.add((node, DCAT.distribution, distribution))
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCTERMS.identifier, Literal(str(resource.uuid))))
        graph.add((distribution, DCTERMS.title, Literal(resource.name, lang="ja")))
        if resource.description:
            graph.add((distribution, DCTERMS.description, Literal(resource.description, lang="ja")))
        graph.add((distribution, DCAT.accessURL, url))
        graph.add((distribution, DCAT.downloadURL, url))
        if resource.format in FILE_TYPES:
            graph.add((distribution, DCTERMS["format"], EU_FILE_TYPE[FILE_TYPES[resource.format]]))
        media_type = (getattr(resource, "latest_media_type", None) or "").split(";")[0]
        if media_type:
            graph.add((distribution, DCAT.mediaType, URIRef(IANA + media_type)))
        if getattr(resource, "latest_size", None) is not None:
            graph.add(
                (
                    distribution,
                    DCAT.byteSize,
                    Literal(resource.latest_size, datatype=XSD.nonNegativeInteger),
                )
            )
        if getattr(resource, "latest_sha256", None):
            checksum = BNode()
            graph.add((distribution, SPDX.checksum, checksum))
            graph.add((checksum, RDF.type, SPDX.Checksum))
            graph.add((checksum, SPDX.algorithm, SPDX.checksumAlgorithm_sha256))
            graph.add(
                (
                    checksum,
                    SPDX.checksumValue,
                    Literal(resource.latest_sha256, datatype=XSD.hexBinary),
                )
            )
        graph.add((distribution, DCTERMS.modified, _moment(resource.modified_at)))
        if licence_url:
            graph.add((distribution, DCTERMS.license, URIRef(licence_url)))
    return node


def catalogue_graph(
    *,
    origin: str,
    catalogue_url: str,
    municipality_name: str,
    page: int,
    modified_since: datetime.datetime | None,
    self_url: Any,
) -> Graph:
    """``self_url(page)`` gives the URL of a page of this same query."""
    graph = Graph()
    _bind(graph)
    datasets = selectors.modified_datasets(since=modified_since)
    total = datasets.count()
    last = max(1, math.ceil(total / PAGE_SIZE))
    catalogue = URIRef(catalogue_url)
    lg_code = current_lg_code()
    publisher = _agent(graph, URIRef(f"{catalogue_url}#publisher"), municipality_name)
    graph.add((publisher, DCTERMS.identifier, Literal(lg_code)))
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add(
        (
            catalogue,
            DCTERMS.title,
            Literal(f"{municipality_name} オープンデータカタログ", lang="ja"),
        )
    )
    graph.add(
        (
            catalogue,
            DCTERMS.description,
            Literal(f"{municipality_name}が公開するオープンデータの一覧です。", lang="ja"),
        )
    )
    graph.add((catalogue, DCTERMS.publisher, publisher))
    graph.add((catalogue, DCTERMS.language, EU_LANGUAGE.JPN))
    graph.add(
        (catalogue, FOAF.homepage, URIRef(origin + reverse("opendata:catalogue", args=[lg_code])))
    )
    newest = (
        selectors.published_datasets()
        .order_by("-modified_at")
        .values_list("modified_at", flat=True)
        .first()
    )
    if newest:
        graph.add((catalogue, DCTERMS.modified, _moment(newest)))
    for dataset in datasets[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]:
        graph.add(
            (catalogue, DCAT.dataset, _dataset(graph, dataset, origin=origin, publisher=publisher))
        )
    view = URIRef(self_url(page))
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((view, HYDRA.totalItems, Literal(total, datatype=XSD.nonNegativeInteger)))
    graph.add((view, HYDRA.itemsPerPage, Literal(PAGE_SIZE, datatype=XSD.nonNegativeInteger)))
    graph.add((view, HYDRA.first, URIRef(self_url(1))))
    graph.add((view, HYDRA.last, URIRef(self_url(last))))
    if page > 1:
        graph.add((view, HYDRA.previous, URIRef(self_url(page - 1))))
    if page < last:
        graph.add((view, HYDRA.next, URIRef(self_url(page + 1))))
    return graph


def serialise(graph: Graph, *, fmt: str) -> str:
    if fmt == "json-ld":
        return graph.serialize(format="json-ld", context=JSONLD_CONTEXT, auto_compact=True)
    return graph.serialize(format="turtle")
