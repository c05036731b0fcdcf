"""(placeholder: filled in by the people capability, issue 4)"""

from chalice import Blueprint

media_jobs = Blueprint(__name__)
