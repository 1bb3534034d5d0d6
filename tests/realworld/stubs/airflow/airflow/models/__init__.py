"""Stub of airflow.models (a regular package here: base.py and
taskinstance.py beside this file)."""
ID_LEN = 250
