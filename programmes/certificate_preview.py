"""Where the programme admin's certificate preview comes from.

The certificates app draws certificates and sits above programmes in the layers, so programmes
cannot import it: the certificates app registers its renderer here when it starts
(``certificates/apps.py``), as it connects its receivers to programmes' signals.
"""

from collections.abc import Callable

_renderer: Callable[..., bytes] | None = None


def renderer_register(function: Callable[..., bytes]) -> None:
    """``function(programme, *, image_format)`` returns the PDF or PNG's bytes of a sample
    certificate, or raises ValueError with a message for staff."""
    global _renderer
    _renderer = function


def certificate_preview_render(programme, *, image_format: str) -> bytes:
    if _renderer is None:
        raise ValueError("Certificate previews are not available: the certificates app is not installed.")
    return _renderer(programme, image_format=image_format)
