"""The API's answers and query parameters as pydantic models, one module per surface of the API.

api/openapi.py builds the OpenAPI document from them. They describe what the views return: nothing validates
answers at run time, the schemathesis run of tests/integration/test_openapi.py checks them."""
