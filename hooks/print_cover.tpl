{#- Cover of the printed chapter (mkdocs-print-site's cover_page_template; see hooks/print_pdf.py). -#}
<div class="gtt-print-cover">
  <h1>{{ config.site_name }}</h1>
  <p class="gtt-print-cover__subtitle">{{ config.site_description }}</p>
  <p>Online, with interactive figures and runnable notebooks: <a href="{{ config.site_url }}">{{ config.site_url }}</a></p>
  <p>Source code: <a href="{{ config.repo_url }}">{{ config.repo_url }}</a></p>
  <p>{{ config.copyright }}</p>
</div>
