-- Statistics of the TPC-H tables of the current database for the cost-based optimizer.
analyze table nation compute statistics for columns;
analyze table region compute statistics for columns;
analyze table part compute statistics for columns;
analyze table supplier compute statistics for columns;
analyze table partsupp compute statistics for columns;
analyze table customer compute statistics for columns;
analyze table orders compute statistics for columns;
analyze table lineitem compute statistics for columns;
