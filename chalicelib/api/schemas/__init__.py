"""The API's answers and query parameters as pydantic models, one module per surface; api/openapi.py builds the
OpenAPI document from them. They describe what the views return: nothing validates answers at run time."""
