"""Open data catalogue: datasets, versioned resources, CKAN Action API and DCAT."""
