"""zimage-qa: a pytest regression and QA gate for Z-Image-Turbo deployments."""

__version__ = "0.2.0"
