"""Serves the API workers' Prometheus metrics (prometheus-client's multiprocess
mode, PROMETHEUS_MULTIPROC_DIR) on a port of its own, so that scrapes neither
queue behind requests nor use the services' CPU (runner.py pins it with Locust).
Usage: metrics_exporter.py PORT"""
import sys
import time

from prometheus_client import CollectorRegistry, multiprocess, start_http_server

if __name__ == "__main__":
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    start_http_server(int(sys.argv[1]), addr="127.0.0.1", registry=registry)
    while True:
        time.sleep(3600)
