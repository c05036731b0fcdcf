"""The structured JSON logger (powertools), one per container."""

from aws_lambda_powertools import Logger

logger = Logger(service="auralumic")
