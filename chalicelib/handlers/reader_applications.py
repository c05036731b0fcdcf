"""(placeholder: filled in by the people capability, issue 4)"""

from chalice import Blueprint

reader_applications_api = Blueprint(__name__)
