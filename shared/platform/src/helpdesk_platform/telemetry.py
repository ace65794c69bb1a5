"""Tracing (OpenTelemetry) and structured logs that carry the trace id.

Traces are exported over OTLP/HTTP when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set; otherwise spans
are not recorded (trace ids still flow into logs and Kafka headers, at almost no cost). Sampling
follows the standard ``OTEL_TRACES_SAMPLER`` variables when they are set.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ParentBased, Sampler
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

_PROPAGATOR = TraceContextTextMapPropagator()
#: Tracebacks as JSON, without the frames' local variables (they may hold tokens or passwords).
_TRACEBACKS = structlog.processors.ExceptionRenderer(
    structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
)
_configured = False


def setup_telemetry(
    service_name: str, *, extra_processors: tuple[SpanProcessor, ...] = ()
) -> TracerProvider:
    """Install the tracer provider and structured logging once per process."""
    global _configured
    provider = trace.get_tracer_provider()
    if _configured and isinstance(provider, TracerProvider):
        for processor in extra_processors:
            provider.add_span_processor(processor)
        return provider
    exporting = traces_exported()
    sampler: Sampler | None = None  # None: the SDK follows OTEL_TRACES_SAMPLER (default: all)
    if not exporting and not extra_processors and "OTEL_TRACES_SAMPLER" not in os.environ:
        # Nothing would receive the spans: keep trace ids (logs, Kafka headers) but record none.
        sampler = ParentBased(ALWAYS_OFF)
    provider = TracerProvider(
        resource=Resource.create({SERVICE_NAME: service_name}), sampler=sampler
    )
    if exporting:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    for processor in extra_processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    setup_logging(service_name)
    _configured = True
    return provider


def traces_exported() -> bool:
    """Whether spans leave the process (an OTLP endpoint is configured)."""
    return bool(
        os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
    )


def spans_recorded() -> bool:
    """Whether this process records spans at all (exported, or sampled by explicit choice)."""
    return traces_exported() or "OTEL_TRACES_SAMPLER" in os.environ


def _add_trace_ids(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event["trace_id"] = format(span_context.trace_id, "032x")
        event["span_id"] = format(span_context.span_id, "016x")
    return event


def setup_logging(service_name: str, level: str | None = None) -> None:
    """JSON logs on stderr, each line with service, level, time and the current trace id."""
    log_level = getattr(logging, (level or os.environ.get("HELPDESK_LOG_LEVEL", "INFO")).upper())
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _add_trace_ids,
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.EventRenamer("message"),
            _TRACEBACKS,
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(log_level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service_name)
    # Standard-library loggers (uvicorn, aiokafka, alembic) go through the same JSON renderer.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.EventRenamer("message"),
                # A library's ``log.exception`` (aiokafka's coordinator) keeps its traceback.
                _TRACEBACKS,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(log_level)


def current_traceparent() -> str | None:
    """The W3C ``traceparent`` of the current span, to store with events."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def context_from_traceparent(traceparent: str | None) -> otel_context.Context:
    """A context whose parent is the span named by ``traceparent`` (empty context if none)."""
    if not traceparent:
        return otel_context.Context()
    return _PROPAGATOR.extract({"traceparent": traceparent})


def inject_traceparent(context: otel_context.Context | None = None) -> str | None:
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier, context=context)
    return carrier.get("traceparent")
