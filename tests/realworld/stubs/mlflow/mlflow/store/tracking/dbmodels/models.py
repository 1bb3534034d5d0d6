"""Stub of mlflow.store.tracking.dbmodels.models: the classes the revision
files import, with mlflow's table names; mapped (with just the columns the
migrations touch) where a migration queries them or uses a column."""
from sqlalchemy import BigInteger, Boolean, Column, Float, Integer, String
from sqlalchemy.orm import declarative_base

Base = declarative_base()

SourceTypes = ["NOTEBOOK", "JOB", "LOCAL", "UNKNOWN", "PROJECT"]


class SqlRun(Base):
    __tablename__ = "runs"
    run_uuid = Column(String(32), primary_key=True)
    source_type = Column(String(20))
    lifecycle_stage = Column(String(20))


class SqlMetric(Base):
    __tablename__ = "metrics"
    key = Column(String(250), primary_key=True)
    value = Column(Float(precision=53), primary_key=True)
    timestamp = Column(BigInteger, primary_key=True)
    step = Column(BigInteger, primary_key=True)
    is_nan = Column(Boolean, primary_key=True)
    run_uuid = Column(String(32), primary_key=True)


class SqlTraceInfo(Base):
    __tablename__ = "trace_info"
    request_id = Column(String(50), primary_key=True)


def _named(class_name, table):
    return type(class_name, (), {"__tablename__": table})


SqlExperiment = _named("SqlExperiment", "experiments")
SqlExperimentTag = _named("SqlExperimentTag", "experiment_tags")
SqlTag = _named("SqlTag", "tags")
SqlLatestMetric = _named("SqlLatestMetric", "latest_metrics")
SqlParam = _named("SqlParam", "params")
SqlDataset = _named("SqlDataset", "datasets")
SqlInput = _named("SqlInput", "inputs")
SqlInputTag = _named("SqlInputTag", "input_tags")
SqlTraceTag = _named("SqlTraceTag", "trace_tags")
SqlTraceMetadata = _named("SqlTraceMetadata", "trace_request_metadata")
SqlTraceMetrics = _named("SqlTraceMetrics", "trace_metrics")
SqlAssessments = _named("SqlAssessments", "assessments")
SqlIssue = _named("SqlIssue", "issues")
SqlSpan = _named("SqlSpan", "spans")
SqlScorer = _named("SqlScorer", "scorers")
SqlScorerVersion = _named("SqlScorerVersion", "scorer_versions")
SqlOnlineScoringConfig = _named("SqlOnlineScoringConfig", "online_scoring_configs")
