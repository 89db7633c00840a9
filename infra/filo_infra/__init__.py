"""The CDK (Python) app that deploys Filo Diretto: one stack per Chalice stage (dev, prod)."""
