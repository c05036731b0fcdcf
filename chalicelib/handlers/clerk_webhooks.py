"""(placeholder: filled in by the people capability, issue 4)"""

from chalice import Blueprint

clerk_webhooks_api = Blueprint(__name__)
