"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-23 16:41:42.649926
"""
import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('area',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('township_code', sa.String(length=9), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_area')),
    sa.UniqueConstraint('county_code', 'code', name=op.f('uq_area_county_code_code'))
    )
    op.create_index(op.f('ix_area_county_code'), 'area', ['county_code'], unique=False)
    op.create_index(op.f('ix_area_township_code'), 'area', ['township_code'], unique=False)
    op.create_table('grid',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('code', sa.String(length=24), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), server_default='basic', nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False), nullable=True),
    sa.Column('household_target', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("code ~ '^[0-9A-Za-z]{13,24}$'", name=op.f('ck_grid_code_format')),
    sa.CheckConstraint("kind IN ('basic', 'dedicated')", name=op.f('ck_grid_kind')),
    sa.CheckConstraint("village_code ~ '^[0-9]{12}$'", name=op.f('ck_grid_village_code_format')),
    sa.CheckConstraint('geom IS NULL OR ST_IsValid(geom)', name=op.f('ck_grid_geom_valid')),
    sa.CheckConstraint('household_target IS NULL OR household_target >= 0', name=op.f('ck_grid_target')),
    sa.CheckConstraint('left(village_code, 6) = county_code', name=op.f('ck_grid_in_county')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_grid_valid_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_grid'))
    )
    op.create_index('idx_grid_geom', 'grid', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_grid_county_code'), 'grid', ['county_code'], unique=False)
    op.create_index(op.f('ix_grid_village_code'), 'grid', ['village_code'], unique=False)
    op.create_index('uq_grid_current_code', 'grid', ['code'], unique=True, postgresql_where=sa.text('valid_to IS NULL'))
    op.create_table('household',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('grid_code', sa.String(length=24), nullable=True),
    sa.Column('village_code', sa.String(length=12), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False), nullable=True),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('head_name', sa.Text(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('id_number', sa.String(length=18), nullable=True),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('residence_type', sa.String(length=16), server_default='registered', nullable=False),
    sa.Column('minimum_living', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('extreme_poverty', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('lifted_from_poverty', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('relapse_monitoring', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('disability_category', sa.String(length=16), nullable=True),
    sa.Column('disability_grade', sa.Integer(), nullable=True),
    sa.Column('left_behind_children', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('left_behind_women', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('left_behind_elderly', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('elderly_alone', sa.Boolean(), server_default='false', nullable=False),
    sa.CheckConstraint("residence_type IN ('registered', 'resident', 'migrant')", name=op.f('ck_household_residence_type')),
    sa.CheckConstraint('disability_grade IS NULL OR disability_grade BETWEEN 1 AND 4', name=op.f('ck_household_disability_grade')),
    sa.CheckConstraint('geom IS NULL OR ST_IsValid(geom)', name=op.f('ck_household_geom_valid')),
    sa.CheckConstraint('size IS NULL OR size BETWEEN 1 AND 99', name=op.f('ck_household_size')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household')),
    sa.UniqueConstraint('county_code', 'code', name=op.f('uq_household_county_code_code'))
    )
    op.create_index('idx_household_geom', 'household', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_household_county_code'), 'household', ['county_code'], unique=False)
    op.create_index(op.f('ix_household_grid_code'), 'household', ['grid_code'], unique=False)
    op.create_index(op.f('ix_household_village_code'), 'household', ['village_code'], unique=False)
    op.create_table('party_branch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('village_code', sa.String(length=12), nullable=False),
    sa.Column('weak', sa.Boolean(), server_default='false', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_party_branch')),
    sa.UniqueConstraint('county_code', 'code', name=op.f('uq_party_branch_county_code_code'))
    )
    op.create_index(op.f('ix_party_branch_county_code'), 'party_branch', ['county_code'], unique=False)
    op.create_index(op.f('ix_party_branch_village_code'), 'party_branch', ['village_code'], unique=False)
    op.create_table('region',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('code', sa.String(length=12), nullable=False),
    sa.Column('level', sa.String(length=16), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('parent_code', sa.String(length=12), nullable=True),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='MULTIPOLYGON', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("(level = 'county' AND length(code) = 6) OR (level = 'township' AND length(code) = 9) OR (level = 'village' AND length(code) = 12)", name=op.f('ck_region_level_matches_code')),
    sa.CheckConstraint("code ~ '^[0-9]{6}([0-9]{3}){0,2}$'", name=op.f('ck_region_code_format')),
    sa.CheckConstraint("level IN ('county', 'township', 'village')", name=op.f('ck_region_level')),
    sa.CheckConstraint('geom IS NULL OR ST_IsValid(geom)', name=op.f('ck_region_geom_valid')),
    sa.CheckConstraint('left(code, 6) = county_code', name=op.f('ck_region_in_county')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_region_valid_period')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_region'))
    )
    op.create_index('idx_region_geom', 'region', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_region_county_code'), 'region', ['county_code'], unique=False)
    op.create_index(op.f('ix_region_parent_code'), 'region', ['parent_code'], unique=False)
    op.create_index('uq_region_current_code', 'region', ['code'], unique=True, postgresql_where=sa.text('valid_to IS NULL'))
    op.create_table('unit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('region_code', sa.String(length=12), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_unit')),
    sa.UniqueConstraint('county_code', 'code', name=op.f('uq_unit_county_code_code'))
    )
    op.create_index(op.f('ix_unit_county_code'), 'unit', ['county_code'], unique=False)
    op.create_index(op.f('ix_unit_region_code'), 'unit', ['region_code'], unique=False)
    op.create_table('area_grid',
    sa.Column('area_id', sa.Integer(), nullable=False),
    sa.Column('grid_code', sa.String(length=24), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_area_grid_area_id_area'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('area_id', 'grid_code', name=op.f('pk_area_grid'))
    )
    op.create_index(op.f('ix_area_grid_county_code'), 'area_grid', ['county_code'], unique=False)
    op.create_table('cadre',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('name', sa.Text(), nullable=False),
    sa.Column('phone', sa.String(length=32), nullable=True),
    sa.Column('title', sa.Text(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_cadre_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cadre')),
    sa.UniqueConstraint('county_code', 'code', name=op.f('uq_cadre_county_code_code'))
    )
    op.create_index(op.f('ix_cadre_county_code'), 'cadre', ['county_code'], unique=False)
    op.create_index(op.f('ix_cadre_unit_id'), 'cadre', ['unit_id'], unique=False)
    op.create_table('app_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('login', sa.String(length=64), nullable=False),
    sa.Column('password_hash', sa.Text(), nullable=False),
    sa.Column('display_name', sa.Text(), nullable=True),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('scope_code', sa.String(length=24), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('cadre_id', sa.Integer(), nullable=True),
    sa.Column('locale', sa.String(length=8), nullable=True),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("login ~ '^[A-Za-z0-9_.@-]{2,64}$'", name=op.f('ck_app_user_login_format')),
    sa.CheckConstraint("role IN ('grid_worker', 'cadre', 'unit_handler', 'village_staff', 'township_staff', 'leader', 'inspector', 'admin')", name=op.f('ck_app_user_role')),
    sa.CheckConstraint("scope_code IS NULL OR scope_code ~ '^[0-9]{6}([0-9]{3}){0,2}$' OR scope_code ~ '^[0-9A-Za-z]{13,24}$'", name=op.f('ck_app_user_scope_code_format')),
    sa.ForeignKeyConstraint(['cadre_id'], ['cadre.id'], name=op.f('fk_app_user_cadre_id_cadre')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_app_user_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_app_user')),
    sa.UniqueConstraint('login', name=op.f('uq_app_user_login'))
    )
    op.create_index(op.f('ix_app_user_county_code'), 'app_user', ['county_code'], unique=False)
    op.create_table('assignment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('cadre_id', sa.Integer(), nullable=True),
    sa.Column('unit_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=12), nullable=True),
    sa.Column('area_id', sa.Integer(), nullable=True),
    sa.Column('grid_code', sa.String(length=24), nullable=True),
    sa.Column('party_branch_id', sa.Integer(), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('valid_from', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('valid_to', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("CASE kind WHEN 'village' THEN region_code IS NOT NULL WHEN 'first_secretary' THEN region_code IS NOT NULL WHEN 'work_team' THEN region_code IS NOT NULL WHEN 'area' THEN area_id IS NOT NULL WHEN 'group' THEN grid_code IS NOT NULL WHEN 'branch' THEN party_branch_id IS NOT NULL WHEN 'household' THEN household_id IS NOT NULL END", name=op.f('ck_assignment_target_matches_kind')),
    sa.CheckConstraint("kind IN ('village', 'area', 'group', 'branch', 'household', 'first_secretary', 'work_team')", name=op.f('ck_assignment_kind')),
    sa.CheckConstraint('(cadre_id IS NULL) <> (unit_id IS NULL)', name=op.f('ck_assignment_one_assignee')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to > valid_from', name=op.f('ck_assignment_valid_period')),
    sa.ForeignKeyConstraint(['area_id'], ['area.id'], name=op.f('fk_assignment_area_id_area')),
    sa.ForeignKeyConstraint(['cadre_id'], ['cadre.id'], name=op.f('fk_assignment_cadre_id_cadre')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_assignment_household_id_household'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['party_branch_id'], ['party_branch.id'], name=op.f('fk_assignment_party_branch_id_party_branch')),
    sa.ForeignKeyConstraint(['unit_id'], ['unit.id'], name=op.f('fk_assignment_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_assignment'))
    )
    op.create_index(op.f('ix_assignment_area_id'), 'assignment', ['area_id'], unique=False)
    op.create_index(op.f('ix_assignment_cadre_id'), 'assignment', ['cadre_id'], unique=False)
    op.create_index(op.f('ix_assignment_county_code'), 'assignment', ['county_code'], unique=False)
    op.create_index(op.f('ix_assignment_grid_code'), 'assignment', ['grid_code'], unique=False)
    op.create_index(op.f('ix_assignment_household_id'), 'assignment', ['household_id'], unique=False)
    op.create_index(op.f('ix_assignment_kind'), 'assignment', ['kind'], unique=False)
    op.create_index(op.f('ix_assignment_party_branch_id'), 'assignment', ['party_branch_id'], unique=False)
    op.create_index(op.f('ix_assignment_region_code'), 'assignment', ['region_code'], unique=False)
    op.create_index(op.f('ix_assignment_unit_id'), 'assignment', ['unit_id'], unique=False)
    op.create_table('issue',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('urgency', sa.String(length=8), server_default='normal', nullable=False),
    sa.Column('source', sa.String(length=16), server_default='grid_worker', nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False), nullable=True),
    sa.Column('grid_code', sa.String(length=24), nullable=True),
    sa.Column('village_code', sa.String(length=12), nullable=True),
    sa.Column('household_id', sa.Integer(), nullable=True),
    sa.Column('reporter_name', sa.Text(), nullable=True),
    sa.Column('reporter_phone', sa.String(length=32), nullable=True),
    sa.Column('real_name', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('status', sa.String(length=16), server_default='reported', nullable=False),
    sa.Column('level', sa.String(length=16), server_default='village', nullable=False),
    sa.Column('responsible_unit_id', sa.Integer(), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('triage_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('handling_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('feedback_due', sa.DateTime(timezone=True), nullable=True),
    sa.Column('review_on', sa.Date(), nullable=True),
    sa.Column('status_changed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('satisfaction', sa.String(length=24), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('client_uuid', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.Column('merged_into', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.CheckConstraint("level IN ('village', 'township', 'county')", name=op.f('ck_issue_level')),
    sa.CheckConstraint("status IN ('reported', 'triaged', 'in_progress', 'handled', 'feedback', 'closed', 'rejected', 'voided', 'long_term')", name=op.f('ck_issue_status')),
    sa.CheckConstraint("urgency IN ('urgent', 'normal')", name=op.f('ck_issue_urgency')),
    sa.CheckConstraint('geom IS NULL OR ST_IsValid(geom)', name=op.f('ck_issue_geom_valid')),
    sa.CheckConstraint('merged_into IS NULL OR merged_into <> id', name=op.f('ck_issue_not_merged_into_self')),
    sa.CheckConstraint('version >= 1', name=op.f('ck_issue_version')),
    sa.ForeignKeyConstraint(['created_by'], ['app_user.id'], name=op.f('fk_issue_created_by_app_user')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_issue_household_id_household')),
    sa.ForeignKeyConstraint(['merged_into'], ['issue.id'], name=op.f('fk_issue_merged_into_issue')),
    sa.ForeignKeyConstraint(['responsible_unit_id'], ['unit.id'], name=op.f('fk_issue_responsible_unit_id_unit')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue')),
    sa.UniqueConstraint('client_uuid', name=op.f('uq_issue_client_uuid')),
    sa.UniqueConstraint('county_code', 'code', name=op.f('uq_issue_county_code_code'))
    )
    op.create_index('idx_issue_geom', 'issue', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_issue_county_code'), 'issue', ['county_code'], unique=False)
    op.create_index(op.f('ix_issue_grid_code'), 'issue', ['grid_code'], unique=False)
    op.create_index(op.f('ix_issue_household_id'), 'issue', ['household_id'], unique=False)
    op.create_index('ix_issue_open', 'issue', ['county_code', 'status', 'grid_code'], unique=False)
    op.create_index(op.f('ix_issue_responsible_unit_id'), 'issue', ['responsible_unit_id'], unique=False)
    op.create_index(op.f('ix_issue_village_code'), 'issue', ['village_code'], unique=False)
    op.create_table('setting',
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_by', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['updated_by'], ['app_user.id'], name=op.f('fk_setting_updated_by_app_user')),
    sa.PrimaryKeyConstraint('county_code', 'key', name=op.f('pk_setting'))
    )
    op.create_table('issue_event',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('issue_id', sa.Integer(), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('level', sa.String(length=16), nullable=True),
    sa.CheckConstraint("to_status IN ('reported', 'triaged', 'in_progress', 'handled', 'feedback', 'closed', 'rejected', 'voided', 'long_term')", name=op.f('ck_issue_event_to_status')),
    sa.ForeignKeyConstraint(['actor_id'], ['app_user.id'], name=op.f('fk_issue_event_actor_id_app_user')),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], name=op.f('fk_issue_event_issue_id_issue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issue_event'))
    )
    op.create_index(op.f('ix_issue_event_county_code'), 'issue_event', ['county_code'], unique=False)
    op.create_index('ix_issue_event_issue_at', 'issue_event', ['issue_id', 'at'], unique=False)
    op.create_table('visit',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('county_code', sa.String(length=6), nullable=False),
    sa.Column('household_id', sa.Integer(), nullable=False),
    sa.Column('cadre_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=16), server_default='visit', nullable=False),
    sa.Column('visited_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('geom', geoalchemy2.types.Geometry(geometry_type='POINT', srid=4326, dimension=2, from_text='ST_GeomFromEWKT', name='geometry', spatial_index=False), nullable=True),
    sa.Column('accuracy_m', sa.Double(), nullable=True),
    sa.Column('checklist', postgresql.JSONB(astext_type=sa.Text()), server_default='{}', nullable=False),
    sa.Column('notes', sa.Text(), nullable=True),
    sa.Column('satisfaction', sa.String(length=24), nullable=True),
    sa.Column('issue_id', sa.Integer(), nullable=True),
    sa.Column('client_uuid', sa.UUID(), server_default=sa.text('gen_random_uuid()'), nullable=False),
    sa.CheckConstraint("kind IN ('visit', 'callback')", name=op.f('ck_visit_kind')),
    sa.CheckConstraint("satisfaction IS NULL OR satisfaction IN ('satisfied', 'basically_satisfied', 'unsatisfied')", name=op.f('ck_visit_satisfaction')),
    sa.CheckConstraint('accuracy_m IS NULL OR accuracy_m >= 0', name=op.f('ck_visit_accuracy')),
    sa.CheckConstraint('geom IS NULL OR ST_IsValid(geom)', name=op.f('ck_visit_geom_valid')),
    sa.ForeignKeyConstraint(['cadre_id'], ['cadre.id'], name=op.f('fk_visit_cadre_id_cadre')),
    sa.ForeignKeyConstraint(['household_id'], ['household.id'], name=op.f('fk_visit_household_id_household'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['issue_id'], ['issue.id'], name=op.f('fk_visit_issue_id_issue')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visit')),
    sa.UniqueConstraint('client_uuid', name=op.f('uq_visit_client_uuid'))
    )
    op.create_index('idx_visit_geom', 'visit', ['geom'], unique=False, postgresql_using='gist')
    op.create_index(op.f('ix_visit_cadre_id'), 'visit', ['cadre_id'], unique=False)
    op.create_index(op.f('ix_visit_county_code'), 'visit', ['county_code'], unique=False)
    op.create_index('ix_visit_household_at', 'visit', ['household_id', 'visited_at'], unique=False)
    op.create_index(op.f('ix_visit_issue_id'), 'visit', ['issue_id'], unique=False)
    # The ledger is append-only: no UPDATE, no DELETE, whoever asks.
    op.execute("""
        CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
    """)
    op.execute("""
        CREATE TRIGGER issue_event_append_only BEFORE UPDATE OR DELETE ON issue_event
        FOR EACH ROW EXECUTE FUNCTION refuse_change()
    """)
    op.execute("""
        CREATE TRIGGER issue_event_no_truncate BEFORE TRUNCATE ON issue_event
        FOR EACH STATEMENT EXECUTE FUNCTION refuse_change()
    """)
    # Geometries must carry the one SRID; typmods enforce it, this makes the rule visible in \d.
    for table in ("region", "grid", "household", "visit", "issue"):
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT ck_{table}_geom_srid "
                   f"CHECK (geom IS NULL OR ST_SRID(geom) = 4326)")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS issue_event_no_truncate ON issue_event")
    op.execute("DROP TRIGGER IF EXISTS issue_event_append_only ON issue_event")
    op.drop_index(op.f('ix_visit_issue_id'), table_name='visit')
    op.drop_index('ix_visit_household_at', table_name='visit')
    op.drop_index(op.f('ix_visit_county_code'), table_name='visit')
    op.drop_index(op.f('ix_visit_cadre_id'), table_name='visit')
    op.drop_index('idx_visit_geom', table_name='visit', postgresql_using='gist')
    op.drop_table('visit')
    op.drop_index('ix_issue_event_issue_at', table_name='issue_event')
    op.drop_index(op.f('ix_issue_event_county_code'), table_name='issue_event')
    op.drop_table('issue_event')
    op.drop_table('setting')
    op.drop_index(op.f('ix_issue_village_code'), table_name='issue')
    op.drop_index(op.f('ix_issue_responsible_unit_id'), table_name='issue')
    op.drop_index('ix_issue_open', table_name='issue')
    op.drop_index(op.f('ix_issue_household_id'), table_name='issue')
    op.drop_index(op.f('ix_issue_grid_code'), table_name='issue')
    op.drop_index(op.f('ix_issue_county_code'), table_name='issue')
    op.drop_index('idx_issue_geom', table_name='issue', postgresql_using='gist')
    op.drop_table('issue')
    op.drop_index(op.f('ix_assignment_unit_id'), table_name='assignment')
    op.drop_index(op.f('ix_assignment_region_code'), table_name='assignment')
    op.drop_index(op.f('ix_assignment_party_branch_id'), table_name='assignment')
    op.drop_index(op.f('ix_assignment_kind'), table_name='assignment')
    op.drop_index(op.f('ix_assignment_household_id'), table_name='assignment')
    op.drop_index(op.f('ix_assignment_grid_code'), table_name='assignment')
    op.drop_index(op.f('ix_assignment_county_code'), table_name='assignment')
    op.drop_index(op.f('ix_assignment_cadre_id'), table_name='assignment')
    op.drop_index(op.f('ix_assignment_area_id'), table_name='assignment')
    op.drop_table('assignment')
    op.drop_index(op.f('ix_app_user_county_code'), table_name='app_user')
    op.drop_table('app_user')
    op.drop_index(op.f('ix_cadre_unit_id'), table_name='cadre')
    op.drop_index(op.f('ix_cadre_county_code'), table_name='cadre')
    op.drop_table('cadre')
    op.drop_index(op.f('ix_area_grid_county_code'), table_name='area_grid')
    op.drop_table('area_grid')
    op.drop_index(op.f('ix_unit_region_code'), table_name='unit')
    op.drop_index(op.f('ix_unit_county_code'), table_name='unit')
    op.drop_table('unit')
    op.drop_index('uq_region_current_code', table_name='region', postgresql_where=sa.text('valid_to IS NULL'))
    op.drop_index(op.f('ix_region_parent_code'), table_name='region')
    op.drop_index(op.f('ix_region_county_code'), table_name='region')
    op.drop_index('idx_region_geom', table_name='region', postgresql_using='gist')
    op.drop_table('region')
    op.drop_index(op.f('ix_party_branch_village_code'), table_name='party_branch')
    op.drop_index(op.f('ix_party_branch_county_code'), table_name='party_branch')
    op.drop_table('party_branch')
    op.drop_index(op.f('ix_household_village_code'), table_name='household')
    op.drop_index(op.f('ix_household_grid_code'), table_name='household')
    op.drop_index(op.f('ix_household_county_code'), table_name='household')
    op.drop_index('idx_household_geom', table_name='household', postgresql_using='gist')
    op.drop_table('household')
    op.drop_index('uq_grid_current_code', table_name='grid', postgresql_where=sa.text('valid_to IS NULL'))
    op.drop_index(op.f('ix_grid_village_code'), table_name='grid')
    op.drop_index(op.f('ix_grid_county_code'), table_name='grid')
    op.drop_index('idx_grid_geom', table_name='grid', postgresql_using='gist')
    op.drop_table('grid')
    op.drop_index(op.f('ix_area_township_code'), table_name='area')
    op.drop_index(op.f('ix_area_county_code'), table_name='area')
    op.drop_table('area')
    op.execute("DROP FUNCTION IF EXISTS refuse_change()")
